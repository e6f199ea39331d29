/* SPDX-License-Identifier: Apache-2.0 */
/*
 * interim: placeholders so stasadm links until each verb lands; whoever
 * implements a verb removes it here (and this file once empty).
 */
#include "stasadm.h"
int verb_cache_ls(int argc, char **argv)
{
	return 1;
}
int verb_cache_show(int argc, char **argv)
{
	return 1;
}
int verb_cache_paths(int argc, char **argv)
{
	return 1;
}
int verb_cache_stats(int argc, char **argv)
{
	return 1;
}
int verb_cache_verify(int argc, char **argv)
{
	return 1;
}
int verb_cache_purge(int argc, char **argv)
{
	return 1;
}
int verb_cache_export(int argc, char **argv)
{
	return 1;
}
int verb_cache_import(int argc, char **argv)
{
	return 1;
}
int verb_status(int argc, char **argv)
{
	return 1;
}
