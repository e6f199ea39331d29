/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stas-connect - make the kernel's connections to one NVMe subsystem (or to
 * all of them) match what the stas cache and configuration want. Run by
 * stas-connect@<nqn>.service; see stas-connect(8). The policy is in
 * lib/reconcile.c; this is argument parsing, output and --all.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backoff.h"
#include "cache.h"
#include "cached-notify.h"
#include "conf.h"
#include "kernel.h"
#include "log.h"
#include "macro.h"
#include "reconcile.h"
#include "stas-connect.h"
#include "strv.h"
#include "tid.h"
#include "unit-name.h"
#include "unit-start.h"

#define JOBS_MAX 64

static const char *arg_nqn;
static char arg_key[NQN_KEY_MAX]; /* "key-<hex>" when the instance is an NQN's key */
static bool arg_all;
static bool arg_shutdown;
static bool arg_dry_run;
static bool arg_json;
static bool arg_verbose;
static bool arg_retry;
static bool arg_audit_due;
static const char *arg_cache_dir;
static const char *arg_config;
static unsigned arg_jobs = 1;

static void help(void)
{
	printf("Usage: stas-connect [OPTIONS] NQN\n"
	       "       stas-connect [OPTIONS] --all\n"
	       "       stas-connect [--dry-run] --shutdown\n\n"
	       "Connect the paths to subsystem NQN that the stas cache and configuration\n"
	       "want, and disconnect the stale ones stas owns (see stas-connect(8)).\n\n"
	       "     --all            every subsystem known to the cache or configuration,\n"
	       "                      and every one with paths stas connected\n"
	       "     --shutdown       disconnect every controller stas made (at shutdown)\n"
	       "  -j --jobs=N         with --all: reconcile N subsystems at a time (1)\n"
	       "     --dry-run        print the plan (connect, keep, disconnect, skip,\n"
	       "                      forget), change nothing\n"
	       "     --json           print the plan and results as JSON\n"
	       "  -v --verbose        print every action, not only what was done\n"
	       "     --audit-due      exit 0 when an audit is due (global.audit-interval\n"
	       "                      since the last one; renews the time stamp), else 1\n"
	       "     --retry          with NQN: retry with backoff (2 s doubling to 60 s)\n"
	       "                      until every wanted path is live or none is wanted\n"
	       "     --cache-dir=DIR  the cache (default: $CACHE_DIRECTORY or " CACHEDIR ")\n"
	       "     --config=FILE    the configuration (default: " SYSCONFDIR "/stas/stas.conf)\n"
	       "     --tron           debug messages\n"
	       "  -h --help           this help\n"
	       "     --version        the version\n");
}

static int parse_argv(int argc, char **argv)
{
	enum {
		OPT_ALL = 0x100,
		OPT_SHUTDOWN,
		OPT_DRY_RUN,
		OPT_JSON,
		OPT_CACHE_DIR,
		OPT_CONFIG,
		OPT_TRON,
		OPT_VERSION,
		OPT_RETRY,
		OPT_AUDIT_DUE,
	};
	static const struct option options[] = {
		{ "all", no_argument, NULL, OPT_ALL },
		{ "retry", no_argument, NULL, OPT_RETRY },
		{ "audit-due", no_argument, NULL, OPT_AUDIT_DUE },
		{ "shutdown", no_argument, NULL, OPT_SHUTDOWN },
		{ "jobs", required_argument, NULL, 'j' },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "verbose", no_argument, NULL, 'v' },
		{ "cache-dir", required_argument, NULL, OPT_CACHE_DIR },
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "tron", no_argument, NULL, OPT_TRON },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{},
	};
	int c;

	while ((c = getopt_long(argc, argv, "hj:v", options, NULL)) >= 0) {
		switch (c) {
		case OPT_ALL:
			arg_all = true;
			break;
		case OPT_SHUTDOWN:
			arg_shutdown = true;
			break;
		case OPT_RETRY:
			arg_retry = true;
			break;
		case OPT_AUDIT_DUE:
			arg_audit_due = true;
			break;
		case 'j': {
			char *end;
			unsigned long v;

			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || v < 1 || v > JOBS_MAX) {
				log_error("--jobs wants a number from 1 to %d, not '%s'.", JOBS_MAX,
					  optarg);
				return -EINVAL;
			}
			arg_jobs = (unsigned)v;
			break;
		}
		case OPT_DRY_RUN:
			arg_dry_run = true;
			break;
		case OPT_JSON:
			arg_json = true;
			break;
		case 'v':
			arg_verbose = true;
			break;
		case OPT_CACHE_DIR:
			arg_cache_dir = optarg;
			break;
		case OPT_CONFIG:
			arg_config = optarg;
			break;
		case OPT_TRON:
			log_set_max_level(LOG_DEBUG);
			break;
		case 'h':
			help();
			return 0;
		case OPT_VERSION:
			printf("stas-connect (stas) %s\n", STAS_VERSION);
			return 0;
		case '?':
			return -EINVAL;
		default:
			return -EINVAL;
		}
	}

	if (arg_retry && (arg_all || arg_shutdown || arg_dry_run)) {
		log_error("--retry works on one NQN, not with --all, --shutdown or --dry-run.");
		return -EINVAL;
	}
	if (arg_audit_due) {
		if (arg_all || arg_shutdown || arg_retry || optind != argc) {
			log_error("--audit-due takes no other action.");
			return -EINVAL;
		}
		return 1;
	}
	if (arg_shutdown) {
		if (arg_all || optind != argc) {
			log_error("--shutdown takes no NQN and no --all.");
			return -EINVAL;
		}
	} else if (arg_all) {
		if (optind != argc) {
			log_error("--all takes no NQN.");
			return -EINVAL;
		}
	} else {
		if (optind + 1 != argc) {
			log_error("Expected one subsystem NQN (or --all); see --help.");
			return -EINVAL;
		}
		arg_nqn = argv[optind];
		/* An NQN too long for a unit name comes as its key (unit-name.h). */
		if (connect_instance_parse(arg_nqn, arg_key) > 0)
			return 1;
		/* systemd hands over %I, the unescaped instance: check it as an NQN. */
		if (!nqn_is_valid(arg_nqn)) {
			log_error("'%s' is not a valid NQN (\"nqn.\" prefix, at most 223 printable "
				  "characters, no spaces).",
				  arg_nqn);
			return -EINVAL;
		}
		if (streq(arg_nqn, NVME_DISC_SUBSYS_NQN)) {
			log_error("%s is the discovery subsystem; stas-connect connects I/O "
				  "subsystems (discovery controllers are stas-discover's).",
				  arg_nqn);
			return -EINVAL;
		}
	}
	return 1;
}

/*
 * Reconcile every @step-th NQN of @nqns from @first as one batch
 * (reconcile_nqns(): one kernel scan, two cache commits per batch) and call
 * @emit with each outcome as a JSON object, in @nqns' order.
 */
static int reconcile_list(struct cache *c, const struct stas_config *cfg, char **nqns, size_t first,
			  size_t step, void (*emit)(struct json_object *o, void *userdata),
			  void *userdata)
{
	_cleanup_free_ struct reconcile_result *v = NULL;
	size_t n = 0, total = strv_length(nqns);
	int r;

	v = calloc(total / step + 1, sizeof(*v));
	if (!v)
		return log_oom();
	for (size_t i = first; i < total; i += step)
		v[n++].nqn = nqns[i];
	r = reconcile_nqns(c, cfg, v, n, arg_dry_run);
	if (r < 0)
		return log_error_errno(r, "Failed to reconcile: %m");
	for (size_t i = 0; i < n; i++) {
		_cleanup_reconcile_plan_ struct reconcile_plan *plan = TAKE_PTR(v[i].plan);

		if (!plan) {
			log_debug_errno(v[i].r, "Cannot reconcile %s: %m", v[i].nqn);
			emit(plan_error_to_json(v[i].nqn, v[i].r < 0 ? v[i].r : -EIO), userdata);
			continue;
		}
		if (v[i].r < 0)
			log_error_errno(v[i].r, "%s: failed to record path state in the cache: %m",
					v[i].nqn);
		emit(plan_to_json(plan, arg_dry_run), userdata);
	}
	return 0;
}

static void emit_array(struct json_object *o, void *userdata)
{
	json_object_array_add(userdata, o);
}

static void emit_line(struct json_object *o, void *userdata)
{
	FILE *f = userdata;

	fprintf(f, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
}

static int cache_get(struct cache **ret)
{
	int r;

	r = cache_open(arg_cache_dir, arg_dry_run ? CACHE_RDONLY : CACHE_RDWR, ret);
	if (r == -ENOENT && arg_dry_run) {
		/* No cache yet: plan from the configuration alone. */
		*ret = NULL;
		return 0;
	}
	if (r < 0)
		return log_error_errno(r, "Failed to open the cache in %s: %s",
				       arg_cache_dir ?: cache_default_dir(), cache_strerror(r));
	return 0;
}

/* Tell stas-cached which subsystems' path records changed (best effort). */
static void notify_cached(struct json_object *results)
{
	_cleanup_strv_free_ char **nqns = NULL;

	for (size_t i = 0; i < json_object_array_length(results); i++) {
		struct json_object *o = json_object_array_get_idx(results, i), *w, *q;

		if (json_object_object_get_ex(o, "cache-writes", &w) &&
		    json_object_get_int64(w) > 0 && json_object_object_get_ex(o, "nqn", &q) &&
		    strv_extend(&nqns, json_object_get_string(q)) < 0)
			return;
	}
	(void)cached_notify_changed(NULL, nqns);
}

/* A worker of --all: reconcile every @jobs-th NQN from @first, one JSON line each. */
static _noreturn_ void worker(char **nqns, size_t first, unsigned jobs,
			      const struct stas_config *cfg, int fd)
{
	_cleanup_cache_ struct cache *c = NULL;
	FILE *f;
	int r;

	f = fdopen(fd, "w");
	if (!f)
		_exit(EXIT_FAILURE);
	/* The cache is opened after fork(), never inherited (LMDB). */
	if (cache_get(&c) < 0)
		_exit(EXIT_FAILURE);
	r = reconcile_list(c, cfg, nqns, first, jobs, emit_line, f);
	kernel_close();
	c = cache_free(c);
	_exit(fclose(f) == 0 && r >= 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}

struct reader {
	int fd;
	char *buf;
	size_t len, alloc;
};

/* Move every complete line in @rd into @out as a parsed JSON object. */
static void reader_lines(struct reader *rd, struct json_object *out)
{
	char *start = rd->buf, *nl;

	while ((nl = memchr(start, '\n', rd->len - (size_t)(start - rd->buf)))) {
		struct json_object *o;

		*nl = '\0';
		o = json_tokener_parse(start);
		if (o)
			json_object_array_add(out, o);
		else
			log_error("A worker sent an unreadable result, ignoring.");
		start = nl + 1;
	}
	rd->len -= (size_t)(start - rd->buf);
	memmove(rd->buf, start, rd->len);
}

static int run_workers(char **nqns, size_t n, const struct stas_config *cfg,
		       struct json_object *out)
{
	struct reader rd[JOBS_MAX] = {};
	struct pollfd pfd[JOBS_MAX];
	pid_t pids[JOBS_MAX];
	unsigned jobs = MIN(arg_jobs, (unsigned)n), open_fds;
	int ret = 0;

	fflush(stdout);
	fflush(stderr);
	for (unsigned k = 0; k < jobs; k++) {
		int p[2];

		if (pipe2(p, O_CLOEXEC) < 0)
			return log_error_errno(errno, "Failed to create a pipe: %m");
		pids[k] = fork();
		if (pids[k] < 0)
			return log_error_errno(errno, "Failed to fork: %m");
		if (pids[k] == 0) {
			close(p[0]);
			for (unsigned j = 0; j < k; j++)
				close(rd[j].fd);
			worker(nqns, k, jobs, cfg, p[1]);
		}
		close(p[1]);
		rd[k].fd = p[0];
	}

	open_fds = jobs;
	while (open_fds > 0) {
		for (unsigned k = 0; k < jobs; k++)
			pfd[k] = (struct pollfd){ .fd = rd[k].fd, .events = POLLIN };
		if (poll(pfd, jobs, -1) < 0) {
			if (errno == EINTR)
				continue;
			ret = log_error_errno(errno, "poll() failed: %m");
			break;
		}
		for (unsigned k = 0; k < jobs; k++) {
			ssize_t l;

			if (rd[k].fd < 0 || !(pfd[k].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (rd[k].alloc - rd[k].len < 4096) {
				size_t na = rd[k].alloc ? rd[k].alloc * 2 : 65536;
				char *b = realloc(rd[k].buf, na);
				if (!b) {
					ret = log_oom();
					goto finish;
				}
				rd[k].buf = b;
				rd[k].alloc = na;
			}
			l = read(rd[k].fd, rd[k].buf + rd[k].len, rd[k].alloc - rd[k].len);
			if (l < 0 && errno == EINTR)
				continue;
			if (l <= 0) {
				close(rd[k].fd);
				rd[k].fd = -1;
				open_fds--;
				continue;
			}
			rd[k].len += (size_t)l;
			reader_lines(&rd[k], out);
		}
	}
finish:
	for (unsigned k = 0; k < jobs; k++) {
		int status;

		if (rd[k].fd >= 0)
			close(rd[k].fd);
		free(rd[k].buf);
		if (waitpid(pids[k], &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0) {
			log_error("A worker of --all failed.");
			if (ret == 0)
				ret = -EIO;
		}
	}
	return ret;
}

static int compare_nqn(const void *a, const void *b)
{
	struct json_object *const *x = a, *const *y = b;
	struct json_object *vx, *vy;

	if (!json_object_object_get_ex(*x, "nqn", &vx) ||
	    !json_object_object_get_ex(*y, "nqn", &vy))
		return 0;
	return strcmp(json_object_get_string(vx), json_object_get_string(vy));
}

/*
 * The NQNs whose key is arg_key, among every subsystem --all would
 * reconcile (the cache's pages and stas's paths, the configuration). More
 * than one only if two NQNs share a 128-bit key: each is reconciled, which
 * is harmless (reconciling is idempotent).
 */
static int nqns_from_key(struct cache *c, const struct stas_config *cfg, char ***ret)
{
	_cleanup_strv_free_ char **all = NULL, **v = NULL;
	int r;

	r = reconcile_nqns_all(c, cfg, &all);
	if (r < 0)
		return log_error_errno(r, "Failed to list the subsystems to resolve %s: %m",
				       arg_key);
	STRV_FOREACH(n, all) {
		char key[NQN_KEY_MAX];

		nqn_key_format(*n, key);
		if (streq(key, arg_key) && strv_extend_unique(&v, *n) < 0)
			return log_oom();
	}
	if (!v) {
		v = calloc(1, sizeof(char *));
		if (!v)
			return log_oom();
		log_notice("No subsystem known to the cache or the configuration has key %s; "
			   "nothing to reconcile.",
			   arg_key);
	}
	r = (int)strv_length(v);
	*ret = TAKE_PTR(v);
	return r;
}

/*
 * --all (the boot path, reload, the audit) does not retry: each subsystem
 * with a path that failed goes to its stas-connect@ unit, which retries with
 * backoff (stas-units(7)). Without systemd nothing is started (the next run
 * tries again).
 */
static void handoff_failed(struct json_object *results)
{
	_cleanup_unit_starter_ struct unit_starter *u = NULL;

	for (size_t i = 0; i < json_object_array_length(results); i++) {
		struct json_object *o = json_object_array_get_idx(results, i), *f, *q;
		_cleanup_free_ char *unit = NULL;
		int r;

		if (!json_object_object_get_ex(o, "failed", &f) || json_object_get_int64(f) <= 0 ||
		    !json_object_object_get_ex(o, "nqn", &q) ||
		    unit_name_connect(json_object_get_string(q), &unit, NULL) < 0)
			continue;
		if (!u && unit_starter_new(&u) < 0)
			return;
		r = unit_starter_start(u, unit, UNIT_START);
		if (r == -ENOMEDIUM)
			return;
		if (r < 0)
			log_warning_errno(r, "Failed to start %s, ignoring: %m", unit);
		else
			log_info("%s: handed to %s, which retries with backoff.",
				 json_object_get_string(q), unit);
	}
}

static int run(void)
{
	_cleanup_config_free_ struct stas_config *cfg = NULL;
	_cleanup_strv_free_ char **errors = NULL;
	_cleanup_strv_free_ char **nqns = NULL;
	_cleanup_cache_ struct cache *c = NULL;
	struct json_object *results = NULL;
	int r, n, failed, nbft_failed = 0;

	/* The configuration first: an error in it stops us before any kernel call. */
	r = config_load(arg_config, &cfg, &errors);
	if (r < 0) {
		STRV_FOREACH(e, errors)
			log_error("%s", *e);
		if (!errors)
			log_error_errno(r, "Failed to load the configuration %s: %m",
					arg_config ?: CONFIG_FILE_DEFAULT);
		log_error("The configuration has errors; nothing was connected or disconnected.");
		return EXIT_CONFIG;
	}
	STRV_FOREACH(w, cfg->warnings)
		log_warning("%s", *w);
	if (cfg->global.tron)
		log_set_max_level(LOG_DEBUG);
	/* Host names as traddr, resolved at each run; a failure is that controller's only. */
	{
		_cleanup_strv_free_ char **problems = NULL;

		if (config_names_resolve(cfg, 0, &problems) < 0)
			return log_oom(), EXIT_PATHS_FAILED;
		STRV_FOREACH(p, problems)
			log_error("%s.", *p);
	}

	r = cache_get(&c);
	if (r < 0)
		return EXIT_PATHS_FAILED;

	if (arg_all) {
		/* the boot firmware's paths first: the root disk may be on them */
		nbft_failed = connect_nbft(c, arg_dry_run);
		if (nbft_failed < 0)
			return EXIT_PATHS_FAILED;
		n = reconcile_nqns_all(c, cfg, &nqns);
		if (n < 0) {
			log_error_errno(n, "Failed to list the subsystems to reconcile: %m");
			return EXIT_PATHS_FAILED;
		}
	} else if (!isempty(arg_key)) {
		n = nqns_from_key(c, cfg, &nqns);
		if (n < 0)
			return EXIT_PATHS_FAILED;
	} else {
		nqns = calloc(2, sizeof(char *));
		if (!nqns || !(nqns[0] = strdup(arg_nqn))) {
			log_oom();
			return EXIT_PATHS_FAILED;
		}
		n = 1;
	}

	results = json_object_new_array();
	if (arg_all && arg_jobs > 1 && n > 1) {
		/* Never fork with the cache open: each worker opens its own. */
		c = cache_free(c);
		r = run_workers(nqns, (size_t)n, cfg, results);
		json_object_array_sort(results, compare_nqn);
	} else
		r = reconcile_list(c, cfg, nqns, 0, 1, emit_array, results);

	if (!arg_dry_run)
		notify_cached(results);
	if (arg_all && !arg_dry_run)
		handoff_failed(results);
	if (!arg_json)
		for (size_t i = 0; i < json_object_array_length(results); i++)
			output_plan_text(json_object_array_get_idx(results, i), arg_dry_run,
					 arg_verbose);
	failed = output_summary(results, arg_json, arg_dry_run, arg_verbose) + nbft_failed;
	json_object_put(results);
	kernel_close();
	if (r < 0 || failed > 0) {
		if (failed > 0 && !arg_json)
			log_error("%d path(s) or subsystem(s) not reconciled; exiting with failure "
				  "so the unit is retried.",
				  failed);
		return EXIT_PATHS_FAILED;
	}
	return EXIT_SUCCESS;
}

/* Touch @path. Return: 1 when it existed, 0 when created, negative errno. */
static int write_stamp(const char *path)
{
	_cleanup_close_ int fd = -EBADF;
	bool existed = access(path, F_OK) == 0;

	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	if (futimens(fd, NULL) < 0)
		return -errno;
	return existed;
}

/*
 * --audit-due (stas-audit.service's ExecCondition, every minute): whether
 * global.audit-interval has passed since the time stamp
 * $RUNTIME_DIRECTORY/audit-stamp (/run/stas: it starts afresh at boot, when
 * stas-discover-all has just reconciled everything). A due audit renews the
 * stamp at once, so two ticks never both run one. Exit 0: due; 1: not due,
 * disabled (0), or the configuration has errors (the boot unit reports
 * them); a missing stamp is created and counts as "just audited".
 */
static int audit_due(void)
{
	_cleanup_config_free_ struct stas_config *cfg = NULL;
	_cleanup_strv_free_ char **errors = NULL;
	_cleanup_free_ char *path = NULL;
	const char *dir = getenv("RUNTIME_DIRECTORY") ?: "/run/stas";
	struct stat st;
	struct timespec now;
	int r;

	r = config_load(arg_config, &cfg, &errors);
	if (r < 0) {
		log_warning("The configuration has errors; no audit.");
		return 1;
	}
	if (cfg->global.audit_interval_sec <= 0)
		return 1;
	if (asprintf(&path, "%s/audit-stamp", dir) < 0) {
		log_oom();
		return 1;
	}
	if (clock_gettime(CLOCK_REALTIME, &now) < 0)
		return 1;
	if (stat(path, &st) == 0 && now.tv_sec >= st.st_mtim.tv_sec &&
	    now.tv_sec - st.st_mtim.tv_sec < cfg->global.audit_interval_sec)
		return 1;
	r = write_stamp(path);
	if (r < 0) {
		log_warning_errno(r, "Cannot write %s (%m); no audit.", path);
		return 1;
	}
	if (r == 0)
		return 1; /* created: counts from now */
	log_info("Audit due (every %lld s).", (long long)cfg->global.audit_interval_sec);
	return 0;
}

/*
 * --retry (the stas-connect@ unit): run until every wanted path is live or
 * none is wanted any more, waiting backoff_delay_sec() between attempts.
 * Each attempt re-reads the configuration and the cache, so a path dropped
 * from either meanwhile is no longer tried. An error retrying cannot fix
 * (the configuration) ends it; a stop request (SIGTERM) ends the wait at
 * once.
 */
static int run_with_retry(void)
{
	unsigned first, max;
	int r;

	if (backoff_parse_env(&first, &max) < 0)
		log_warning("Ignoring an invalid $STAS_BACKOFF (wanted FIRST,MAX in seconds).");
	for (unsigned attempt = 1;; attempt++) {
		unsigned delay;

		r = run();
		if (r != EXIT_PATHS_FAILED)
			return r;
		delay = backoff_delay_sec_custom(attempt, first, max);
		log_notice("Attempt %u did not connect every wanted path of %s; retrying in %u s.",
			   attempt, arg_key[0] ? arg_key : arg_nqn, delay);
		r = backoff_wait(delay);
		if (r < 0) {
			log_error_errno(r, "Cannot wait before retrying: %m");
			return EXIT_PATHS_FAILED;
		}
		if (r > 0) {
			log_info("Stop requested (%s) while waiting to retry; exiting.",
				 strsignal(r));
			return EXIT_SUCCESS;
		}
	}
}

int main(int argc, char **argv)
{
	int r;

	log_set_ident("stas-connect");
	log_set_target_auto();

	r = parse_argv(argc, argv);
	if (r <= 0)
		return r < 0 ? EXIT_USAGE : EXIT_SUCCESS;
	if (arg_shutdown) {
		r = connect_shutdown(arg_cache_dir, arg_dry_run);
		kernel_close();
		return r < 0 ? EXIT_PATHS_FAILED : EXIT_SUCCESS;
	}
	if (arg_audit_due)
		return audit_due();
	if (!arg_retry)
		return run();
	return run_with_retry();
}
