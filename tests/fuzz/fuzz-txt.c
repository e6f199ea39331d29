/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DNS-SD TXT records of NVMe discovery controllers, as avahi hands them to
 * stas-mdns-watch (length-prefixed strings), and the service -> DC step
 * that follows. Properties: no crash; an accepted record has a known
 * transport and, when given, a valid NQN; the DC built from it is
 * canonical. The first input byte picks the address to combine it with.
 */
#include <stdlib.h>
#include <string.h>

/* Built by tests/fuzz/run from this file and lib/ only: take the module in. */
#include "../../helpers/stas-mdns-watch/mdns-rules.c"

#include "fuzz.h"

static const char *const addrs[] = {
	"192.168.1.10", "::ffff:10.0.0.1", "fe80::1",	     "2001:db8::5",
	"0.0.0.0",	"224.0.0.251",	   "not-an-address",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mdns_policy pol = {
		.ip_family = CONFIG_IP_FAMILY_BOTH,
		.unique_nqn = true,
		.host_nqn = "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000001",
	};
	char why[MDNS_WHY_MAX], traddr[TID_TRADDR_MAX + 1];
	struct mdns_txt t;
	struct tid dc, again;
	const char *addr;

	if (size < 1)
		return 0;
	addr = addrs[data[0] % ELEMENTSOF(addrs)];
	pol.ignore_iface = data[0] & 0x80;
	if (mdns_txt_parse(data + 1, size - 1, &t, why) < 0)
		return 0;
	if (!streq(t.transport, "tcp") && !streq(t.transport, "rdma"))
		abort();
	if (!isempty(t.nqn) && !nqn_is_valid(t.nqn))
		abort();
	if (mdns_address_normalize(addr, "eth0", traddr) < 0 && !strchr(addr, '.') &&
	    !strchr(addr, ':'))
		return 0;
	if (mdns_dc_from_service(&t, "eth0", addr, 8009, &pol, &dc, why) < 0)
		return 0;
	again = dc;
	if (tid_canonicalize(&again) < 0 || !tid_equal(&dc, &again))
		abort();
	return 0;
}
