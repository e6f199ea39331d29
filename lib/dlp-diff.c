/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dlp-diff.h"
#include "macro.h"
#include "strv.h"

#define CMP(a, b) (((a) > (b)) - ((a) < (b)))

/* A total order on entries, consistent with dlpe_equal(). */
static int dlpe_cmp(const struct dlpe *a, const struct dlpe *b)
{
	int r = strcmp(a->subnqn, b->subnqn);

	r = r ?: strcmp(a->transport, b->transport);
	r = r ?: strcmp(a->traddr, b->traddr);
	r = r ?: strcmp(a->trsvcid, b->trsvcid);
	r = r ?: CMP(a->trtype, b->trtype);
	r = r ?: CMP(a->adrfam, b->adrfam);
	r = r ?: CMP(a->subtype, b->subtype);
	r = r ?: CMP(a->treq, b->treq);
	r = r ?: CMP(a->portid, b->portid);
	r = r ?: CMP(a->cntlid, b->cntlid);
	r = r ?: CMP(a->asqsz, b->asqsz);
	r = r ?: CMP(a->eflags, b->eflags);
	r = r ?: CMP(a->tsas_sectype, b->tsas_sectype);
	r = r ?: CMP(a->tsas_rdma_qptype, b->tsas_rdma_qptype);
	r = r ?: CMP(a->tsas_rdma_prtype, b->tsas_rdma_prtype);
	r = r ?: CMP(a->tsas_rdma_cms, b->tsas_rdma_cms);
	return r ?: CMP(a->tsas_rdma_pkey, b->tsas_rdma_pkey);
}

static int ptr_cmp(const void *x, const void *y)
{
	return dlpe_cmp(*(const struct dlpe *const *)x, *(const struct dlpe *const *)y);
}

/* Pointers to the entries of subtype @subtype in @e, sorted (NQN first). */
static size_t select_sorted(const struct dlpe *e, size_t n, uint8_t subtype,
			    const struct dlpe **out)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (e[i].subtype == subtype)
			out[k++] = &e[i];
	qsort(out, k, sizeof(*out), ptr_cmp);
	return k;
}

/* End of the group of entries for the NQN of a[i]. */
static size_t group_end(const struct dlpe **a, size_t n, size_t i)
{
	size_t j = i;

	while (j < n && streq(a[j]->subnqn, a[i]->subnqn))
		j++;
	return j;
}

static int dlpe_append(struct dlpe **l, size_t *n, const struct dlpe *e)
{
	struct dlpe *nl = reallocarray(*l, *n + 1, sizeof(*nl));

	if (!nl)
		return -ENOMEM;
	*l = nl;
	nl[(*n)++] = *e;
	return 0;
}

static int diff_nqns(const struct dlpe **a, size_t na, const struct dlpe **b, size_t nb,
		     struct cache_dlp_change *ch)
{
	for (size_t i = 0, j = 0; i < na || j < nb;) {
		int c = i >= na ? 1 : j >= nb ? -1 : strcmp(a[i]->subnqn, b[j]->subnqn);
		size_t ie = c <= 0 ? group_end(a, na, i) : i;
		size_t je = c >= 0 ? group_end(b, nb, j) : j;
		int r = 0;

		if (c < 0)
			r = strv_extend(&ch->nqns_removed, a[i]->subnqn);
		else if (c > 0)
			r = strv_extend(&ch->nqns_added, b[j]->subnqn);
		else {
			bool same = ie - i == je - j;
			for (size_t k = 0; same && k < ie - i; k++)
				same = dlpe_cmp(a[i + k], b[j + k]) == 0;
			if (!same)
				r = strv_extend(&ch->nqns_changed, a[i]->subnqn);
		}
		if (r < 0)
			return r;
		i = ie;
		j = je;
	}
	return 0;
}

static int diff_referrals(const struct dlpe **a, size_t na, const struct dlpe **b, size_t nb,
			  struct cache_dlp_change *ch)
{
	for (size_t i = 0, j = 0; i < na || j < nb;) {
		int c = i >= na ? 1 : j >= nb ? -1 : dlpe_cmp(a[i], b[j]);
		int r = 0;

		if (c < 0)
			r = dlpe_append(&ch->referrals_removed, &ch->n_referrals_removed, a[i++]);
		else if (c > 0)
			r = dlpe_append(&ch->referrals_added, &ch->n_referrals_added, b[j++]);
		else
			i++, j++;
		if (r < 0)
			return r;
	}
	return 0;
}

int dlp_diff(const struct dlpe *old, size_t n_old, const struct dlpe *new, size_t n_new,
	     struct cache_dlp_change *ret)
{
	_cleanup_free_ const struct dlpe **a = calloc(n_old + 1, sizeof(*a));
	_cleanup_free_ const struct dlpe **b = calloc(n_new + 1, sizeof(*b));
	struct cache_dlp_change ch = {};
	size_t na, nb;
	int r;

	if (!a || !b)
		return -ENOMEM;
	na = select_sorted(old, n_old, DLPE_SUBTYPE_NVME, a);
	nb = select_sorted(new, n_new, DLPE_SUBTYPE_NVME, b);
	r = diff_nqns(a, na, b, nb, &ch);
	if (r >= 0) {
		na = select_sorted(old, n_old, DLPE_SUBTYPE_REFERRAL, a);
		nb = select_sorted(new, n_new, DLPE_SUBTYPE_REFERRAL, b);
		r = diff_referrals(a, na, b, nb, &ch);
	}
	if (r < 0) {
		cache_dlp_change_free(&ch);
		return r;
	}
	*ret = ch;
	return 0;
}

bool dlp_equal(const struct dlpe *a, size_t na, const struct dlpe *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (!dlpe_equal(&a[i], &b[i]))
			return false;
	return true;
}

void cache_dlp_change_free(struct cache_dlp_change *ch)
{
	if (!ch)
		return;
	strv_free(ch->nqns_added);
	strv_free(ch->nqns_removed);
	strv_free(ch->nqns_changed);
	free(ch->referrals_added);
	free(ch->referrals_removed);
	*ch = (struct cache_dlp_change){};
}
