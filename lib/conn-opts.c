/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "conn-opts.h"

static int unset_to_zero(int32_t v)
{
	return v == CONFIG_UNSET ? 0 : v;
}

void conn_opts_from_config(const struct config_path_opts *p, struct kconn_opts *ret)
{
	struct kconn_opts o = {
		.kato = unset_to_zero(p->conn.kato),
		.queue_size = unset_to_zero(p->conn.queue_size),
		.nr_io_queues = unset_to_zero(p->conn.nr_io_queues),
		.nr_write_queues = unset_to_zero(p->conn.nr_write_queues),
		.nr_poll_queues = unset_to_zero(p->conn.nr_poll_queues),
		.reconnect_delay = unset_to_zero(p->conn.reconnect_delay),
		.ctrl_loss_tmo = unset_to_zero(p->conn.ctrl_loss_tmo),
		.ctrl_loss_tmo_set = p->conn.ctrl_loss_tmo != CONFIG_UNSET,
		.hdr_digest = p->conn.hdr_digest > 0,
		.data_digest = p->conn.data_digest > 0,
		.disable_sqflow = p->conn.disable_sqflow > 0,
		.hostid = p->hostid,
		.dhchap_secret = p->dhchap_secret,
		.dhchap_ctrl_secret = p->dhchap_ctrl_secret,
		.tls = p->conn.tls > 0,
		.tls_key = p->tls_key,
		.tls_key_derivation = p->tls_key_derivation,
	};

	*ret = o;
}
