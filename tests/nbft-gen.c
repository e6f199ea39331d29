/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nbft-gen - write an NBFT table (NVM Express Boot Specification 1.0) for
 * tests: one host descriptor, one HFI (NVMe/TCP), discovery descriptors and
 * SSNS descriptors, all through that HFI. QEMU's -acpitable file=... takes
 * the result as it is.
 *
 *   nbft-gen -o FILE --host-nqn NQN --host-id UUID [--ip ADDR[/PREFIX]]
 *            [--mac MAC] [--dc URI[,NQN]]... [--ssns ADDR,PORT,NQN[,DC]]...
 *
 * --ip defaults to 127.0.0.1/8 with an all-zero MAC (loopback's); a DC's NQN
 * defaults to the discovery NQN; an SSNS names the DC (1-based) it was found
 * through, 0 for none.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nbft-build.h"

static int uuid_parse(const char *s, uint8_t id[16])
{
	size_t n = 0;

	for (; *s && n < 32; s++) {
		unsigned v;

		if (*s == '-')
			continue;
		if (sscanf(s, "%1x", &v) != 1)
			return -EINVAL;
		id[n / 2] = (uint8_t)(id[n / 2] << 4 | v);
		n++;
	}
	return n == 32 && *s == '\0' ? 0 : -EINVAL;
}

static char *split(char *s)
{
	char *c = s ? strchr(s, ',') : NULL;

	if (!c)
		return NULL;
	*c = '\0';
	return c + 1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "output", required_argument, NULL, 'o' },
					      { "host-nqn", required_argument, NULL, 'n' },
					      { "host-id", required_argument, NULL, 'i' },
					      { "ip", required_argument, NULL, 'a' },
					      { "mac", required_argument, NULL, 'm' },
					      { "dc", required_argument, NULL, 'd' },
					      { "ssns", required_argument, NULL, 's' },
					      {} };
	struct nb_table d = { .n_hfi = 1, .hfi[0] = { .ip = "127.0.0.1", .prefix = 8 } };
	const char *out = NULL;
	uint8_t *b;
	size_t len;
	FILE *f;
	int c;

	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) >= 0) {
		char *a = optarg, *p;
		unsigned m[6];

		switch (c) {
		case 'o':
			out = a;
			break;
		case 'n':
			d.host_nqn = a;
			break;
		case 'i':
			if (uuid_parse(a, d.host_id) < 0) {
				fprintf(stderr, "nbft-gen: bad host ID %s\n", a);
				return 2;
			}
			break;
		case 'a':
			if ((p = strchr(a, '/'))) {
				*p = '\0';
				d.hfi[0].prefix = (unsigned)atoi(p + 1);
			}
			d.hfi[0].ip = a;
			break;
		case 'm':
			if (sscanf(a, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4],
				   &m[5]) != 6) {
				fprintf(stderr, "nbft-gen: bad MAC %s\n", a);
				return 2;
			}
			for (int i = 0; i < 6; i++)
				d.hfi[0].mac[i] = (uint8_t)m[i];
			break;
		case 'd':
			if (d.n_dc == NB_MAX)
				return fprintf(stderr, "nbft-gen: too many DCs\n"), 2;
			p = split(a);
			d.dc[d.n_dc++] =
				(struct nb_dc){ .uri = a,
						.nqn = p ? p :
							   "nqn.2014-08.org.nvmexpress.discovery",
						.hfi = 1 };
			break;
		case 's': {
			char *port = split(a), *nqn = split(port), *dc = split(nqn);

			if (!nqn || d.n_ssns == NB_MAX) {
				fprintf(stderr, "nbft-gen: --ssns ADDR,PORT,NQN[,DC]\n");
				return 2;
			}
			d.ssns[d.n_ssns++] = (struct nb_ssns){ .traddr = a,
							       .trsvcid = port,
							       .nqn = nqn,
							       .hfi = 1,
							       .dc = dc ? (unsigned)atoi(dc) : 0,
							       .nsid = 1 };
			break;
		}
		default:
			return 2;
		}
	}
	if (!out || !d.host_nqn || optind != argc) {
		fprintf(stderr,
			"usage: nbft-gen -o FILE --host-nqn NQN --host-id UUID [--ip ADDR[/PREFIX]] "
			"[--mac MAC] [--dc URI[,NQN]]... [--ssns ADDR,PORT,NQN[,DC]]...\n");
		return 2;
	}
	b = nb_build(&d, &len);
	if (!b)
		return 1;
	f = fopen(out, "we");
	if (!f || fwrite(b, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "nbft-gen: cannot write %s: %s\n", out, strerror(errno));
		return 1;
	}
	free(b);
	return 0;
}
