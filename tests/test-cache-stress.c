/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test-cache-stress - many processes at once, and writers killed with
 * SIGKILL at random moments. Every child opens its own cache handle after
 * fork(), as every stas program must.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "macro.h"
#include "tap.h"
#include "cache-test-util.h"

#define N_PROC 8
#define N_UPDATES 200
#define N_KILLS 200
#define N_CRASH_DC 5

/* Page number @seq for a DC: its size and contents are derived from @seq,
 * so a reader can tell a complete page from a torn one. */
static size_t seq_page(uint64_t seq, struct dlpe *e)
{
	size_t n = 1 + seq % 40;

	for (size_t i = 0; i < n; i++) {
		test_entry((unsigned)((seq + i) % 9), (unsigned)i, &e[i]);
		e[i].cntlid = (uint16_t)(seq & 0xffff);
		e[i].portid = (uint16_t)(seq >> 16);
	}
	return n;
}

static bool page_matches(const struct dlpe *e, size_t n, uint64_t seq)
{
	struct dlpe want[64];
	size_t wn = seq_page(seq, want);

	return dlp_equal(e, n, want, wn);
}

static void report_cb(const char *problem, void *ud)
{
	(void)ud;
	diag("verify: %s", problem);
}

static void test_concurrency(void)
{
	char *dir = tmpdir_new();
	pid_t pids[N_PROC];
	struct cache *c = NULL;
	int failed = 0, verifies = 0, dirty = 0;

	for (int k = 0; k < N_PROC; k++) {
		pids[k] = fork();
		if (pids[k] == 0) {
			struct cache *cc = NULL;
			struct dlpe e[64];
			struct cache_dc dc;
			int bad = 0;

			if (cache_open(dir, CACHE_RDWR | CACHE_NOSYNC, &cc) < 0)
				_exit(2);
			test_dc((unsigned)k, &dc);
			for (uint64_t i = 1; i <= N_UPDATES; i++) {
				size_t n = seq_page(i, e);
				struct cache_path p = {};

				if (cache_dlp_put(cc, &dc, e, n, i, NULL) != 1)
					bad++;
				/* and a path record per update: 1600 distinct keys */
				test_entry(1000 + (unsigned)k, (unsigned)i, &e[0]);
				dlpe_to_tid(&e[0], &dc.tid, &p.tid);
				p.attempts = (uint32_t)i;
				if (cache_path_put(cc, &p) != 1)
					bad++;
			}
			cache_free(cc);
			_exit(bad ? 1 : 0);
		}
	}
	/* readers never block and never see a half-written page */
	for (int alive = N_PROC; alive > 0;) {
		int st;
		pid_t p = waitpid(-1, &st, WNOHANG);
		if (p > 0) {
			alive--;
			if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
				failed++;
			continue;
		}
		if (!c && cache_open(dir, CACHE_RDONLY, &c) < 0) {
			usleep(1000);
			continue;
		}
		if (cache_verify(c, report_cb, NULL) != 0)
			dirty++;
		verifies++;
	}
	is_int(failed, 0, "8 processes x 200 DLP + path updates: every call succeeded");
	ok(dirty == 0, "%d verifications while writing: all clean", verifies);
	cache_free(c);

	cache_open(dir, CACHE_RDONLY, &c);
	int lost = 0;
	for (int k = 0; k < N_PROC; k++) {
		struct cache_dc dc, got;
		struct dlpe *e = NULL;
		size_t n = 0;
		test_dc((unsigned)k, &dc);
		if (cache_dc_get(c, &dc.tid, &got) != 1 || got.genctr != N_UPDATES ||
		    cache_dlp_get(c, &dc.tid, &e, &n) != 1 || !page_matches(e, n, N_UPDATES))
			lost++;
		free(e);
	}
	is_int(lost, 0, "every process's last page is there");
	struct cache_stats st = {};
	int r = cache_stats(c, &st);
	ok(r == 0 && st.n_paths == N_PROC * N_UPDATES && st.n_dcs == N_PROC,
	   "nothing lost: %llu paths, %llu DCs", (unsigned long long)st.n_paths,
	   (unsigned long long)st.n_dcs);
	is_int(cache_verify(c, report_cb, NULL), 0, "verify clean");
	cache_free(c);
	tmpdir_rm(dir);
}

/* The writer: DLP puts round-robin over N_CRASH_DC DCs, reporting each
 * committed (dc, seq) on @fd. */
_noreturn_ static void crash_writer(const char *dir, int fd, uint64_t base, bool sync)
{
	struct cache *c = NULL;
	struct dlpe e[64];

	if (cache_open(dir, CACHE_RDWR | (sync ? 0 : CACHE_NOSYNC), &c) < 0)
		_exit(2);
	for (uint64_t seq = base;; seq++) {
		struct cache_dc dc;
		uint64_t msg[2] = { seq % N_CRASH_DC, seq };
		size_t n = seq_page(seq, e);

		test_dc((unsigned)msg[0], &dc);
		if (cache_dlp_put(c, &dc, e, n, seq, NULL) < 0)
			_exit(3);
		if (write(fd, msg, sizeof(msg)) != sizeof(msg))
			_exit(4);
	}
}

static void test_crash(void)
{
	char *dir = tmpdir_new();
	uint64_t committed[N_CRASH_DC] = {};
	int unclean = 0, missing = 0, torn = 0, writer_failed = 0;
	unsigned seed = 777;
	unsigned long total = 0;

	srand(seed);
	for (int it = 0; it < N_KILLS; it++) {
		int fds[2];
		pid_t pid;
		struct cache *c = NULL;

		if (pipe(fds) < 0)
			abort();
		pid = fork();
		if (pid == 0) {
			close(fds[0]);
			/* every 4th writer commits durably (fsync), the others without */
			crash_writer(dir, fds[1], (uint64_t)(it + 1) * 1000000, it % 4 == 0);
		}
		close(fds[1]);
		/* let it run between 0 and ~15 ms, then kill it mid-flight */
		usleep((useconds_t)(rand() % 15000));
		kill(pid, SIGKILL);
		int st;
		waitpid(pid, &st, 0);
		if (!WIFSIGNALED(st))
			writer_failed++;
		uint64_t msg[2];
		while (read(fds[0], msg, sizeof(msg)) == sizeof(msg)) {
			committed[msg[0]] = msg[1];
			total++;
		}
		close(fds[0]);

		if (cache_open(dir, CACHE_RDONLY, &c) < 0) {
			if (committed[0] || committed[1])
				missing++;
			continue; /* killed before the environment existed */
		}
		if (cache_verify(c, report_cb, NULL) != 0)
			unclean++;
		for (unsigned d = 0; d < N_CRASH_DC; d++) {
			struct cache_dc dc, got;
			struct dlpe *e = NULL;
			size_t n = 0;

			if (!committed[d])
				continue;
			test_dc(d, &dc);
			/* the reported page or a later one (committed, not yet reported) */
			if (cache_dc_get(c, &dc.tid, &got) != 1 || got.genctr < committed[d]) {
				missing++;
				continue;
			}
			if (cache_dlp_get(c, &dc.tid, &e, &n) != 1 ||
			    !page_matches(e, n, got.genctr))
				torn++;
			free(e);
		}
		cache_free(c);
	}
	diag("%lu commits reported before the kills", total);
	is_int(writer_failed, 0, "%d writers ran until killed", N_KILLS);
	is_int(unclean, 0, "verify clean after every kill -9");
	is_int(missing, 0, "every reported commit survived");
	is_int(torn, 0, "every page complete (size and contents match its genctr)");
	tmpdir_rm(dir);
}

int main(void)
{
	test_concurrency();
	test_crash();
	return tap_done();
}
