#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""nvme-stas's own clients against stas-cached (tests/cached-compat.test).

Runs Debian 13's stafctl and stacctl (nvme-stas 2.4.1) on a private bus
where stas-cached serves a seeded cache, and checks that they list the same
DCs, log page entries and controllers as `stasadm --json` on the same cache;
that the introspection matches nvme-stas's stafd.idl/stacd.idl; that
GetStatus() equals `stasadm status --json`; and that no configured secret
appears anywhere. Prints TAP.

    cached-compat.py NVME_STAS_ROOT STASADM CACHE_DIR CONFIG SECRET...
"""
import ast
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

ROOT, STASADM, CACHE, CONFIG = sys.argv[1:5]
SECRETS = sys.argv[5:]
PYPATH = os.path.join(ROOT, 'usr/lib/python3/dist-packages')
sys.path.insert(0, PYPATH)

N = 0
FAILED = 0
OUTPUTS = []


def ok(cond, what):
    global N, FAILED
    N += 1
    print(f'{"" if cond else "not "}ok {N} - {what}', flush=True)
    if not cond:
        FAILED += 1
    return cond


def run_ctl(tool, *args):
    env = dict(os.environ, PYTHONPATH=PYPATH)
    p = subprocess.run(['/usr/bin/python3', os.path.join(ROOT, 'usr/bin', tool), *args],
                       env=env, capture_output=True, text=True, timeout=120, check=False)
    OUTPUTS.append(p.stdout + p.stderr)
    if p.returncode != 0:
        print(f'# {tool} {" ".join(args)}: exit {p.returncode}: {p.stderr.strip()[-500:]}')
        return None
    return ast.literal_eval(p.stdout)


def stasadm(*args):
    p = subprocess.run([STASADM, f'--cache-dir={CACHE}', f'--config={CONFIG}', '--json', *args],
                       capture_output=True, text=True, timeout=60, check=False)
    return json.loads(p.stdout)


def cid(d):
    return (d['transport'], d['traddr'], d['trsvcid'], d['subsysnqn'], d['host-traddr'],
            d['host-iface'], d['host-nqn'])


def tid_cid(t):
    return (t['transport'], t['traddr'], t['trsvcid'], t['subsysnqn'], t['host-traddr'],
            t['host-iface'], t['host-nqn'])


SUBTYPE = {'nvme subsystem': 'nvme', 'discovery subsystem referral': 'referral',
           'current discovery subsystem': 'discovery'}
ORIGIN = {'config': 'configured', 'manual': 'configured', 'mdns': 'discovered',
          'udev': 'discovered', 'referral': 'referral'}


def entry_key(e):
    """The fields both sides carry, in nvme-stas's words."""
    return (e['trtype'], e['adrfam'], e['traddr'], e['trsvcid'], e['subnqn'], e['subtype'],
            e['portid'], e['cntlid'], e['asqsz'], e['eflags'])


def stasadm_entry_key(e):
    return (e['transport'], e['adrfam'], e['traddr'], e['trsvcid'], e['subsysnqn'],
            SUBTYPE[e['subtype']], str(e['portid']), str(e['cntlid']), str(e['asqsz']),
            str(e['eflags']))


dcs = stasadm('ls')
pages = {tid_cid(d['tid']): [stasadm_entry_key(e) for e in stasadm('show', d['key'])['log-page']]
         for d in dcs}
paths = stasadm('paths')

# stafctl ls / ls -d
ls = run_ctl('stafctl', 'ls')
ok(ls is not None and sorted(cid(c) for c in ls) == sorted(tid_cid(d['tid']) for d in dcs),
   'stafctl ls: the DCs of stasadm ls')
ok(ls is not None and all(set(c) == {'transport', 'traddr', 'trsvcid', 'subsysnqn', 'host-traddr',
                                     'host-iface', 'host-nqn', 'device'} for c in ls),
   'stafctl ls: nvme-stas\'s keys')
lsd = run_ctl('stafctl', 'ls', '-d')
ok(lsd is not None and sorted((cid(c), c['origin'], c['device']) for c in lsd)
   == sorted((tid_cid(d['tid']), ORIGIN[d['origin']], d['device']) for d in dcs),
   'stafctl ls -d: same DCs, origins in nvme-stas\'s words, devices')

# stafctl dlp for every DC, as an admin types it (well-known NQN by default)
for d in dcs:
    t = d['tid']
    args = ['dlp', '-t', t['transport'], '-a', t['traddr'], '-s', t['trsvcid'], '-q', t['host-nqn']]
    if t['subsysnqn'] != 'nqn.2014-08.org.nvmexpress.discovery':
        args += ['-n', t['subsysnqn']]
    got = run_ctl('stafctl', *args)
    ok(got is not None and [entry_key(e) for e in got] == pages[tid_cid(t)],
       f'stafctl {" ".join(args[:7])}: the entries of stasadm show ({len(pages[tid_cid(t)])})')
ok(run_ctl('stafctl', 'dlp', '-t', 'tcp', '-a', '192.168.1.99', '-s', '8009') == [],
   'stafctl dlp of an unknown DC: []')

# stafctl adlp
adlp = run_ctl('stafctl', 'adlp')
ok(adlp is not None and {cid(x['discovery-controller']): [entry_key(e) for e in x['log-pages']]
                         for x in adlp} == pages,
   'stafctl adlp: every DC with the entries of stasadm show')
adlpd = run_ctl('stafctl', 'adlp', '-d')
ok(adlpd is not None and len(adlpd) == len(dcs) and all('origin' in x['discovery-controller']
                                                       for x in adlpd),
   'stafctl adlp -d: detailed DCs')

# stafctl status
st = run_ctl('stafctl', 'status')
ok(st is not None and sorted(cid(c) for c in st['controllers']) == sorted(pages)
   and all([entry_key(e) for e in c['log_pages']] == pages[cid(c)] for c in st['controllers']),
   'stafctl status: process info, every DC with its log pages and controller info')
ok(st is not None and 'hostnqn' in st and 'kernel' in st and 'symname' in st,
   'stafctl status: host ids, symname, kernel flags')

# stacctl
want_paths = sorted(tid_cid(p['tid']) for p in paths)
sls = run_ctl('stacctl', 'ls')
ok(sls is not None and sorted(cid(c) for c in sls) == want_paths,
   'stacctl ls: the paths of stasadm paths')
slsd = run_ctl('stacctl', 'ls', '-d')
ok(slsd is not None and sorted((cid(c), c['connect attempts']) for c in slsd)
   == sorted((tid_cid(p['tid']), str(p['attempts'])) for p in paths),
   'stacctl ls -d: with connect attempts')
sst = run_ctl('stacctl', 'status')
ok(sst is not None and sorted(cid(c) for c in sst['controllers']) == want_paths
   and all(c.get('state') for c in sst['controllers']),
   'stacctl status: every path with its state')
tron = run_ctl('stafctl', 'tron')
ok(tron is None,
   'stafctl tron: refused (stas-cached is read-only)')

# no secret anywhere
leaked = [s for s in SECRETS for out in OUTPUTS if s in out]
ok(not leaked and len(OUTPUTS) > 10, f'no configured secret in {len(OUTPUTS)} outputs')

# introspection against nvme-stas's IDL
from dasbus.connection import SystemMessageBus  # noqa: E402  pylint: disable=wrong-import-position
from dasbus.typing import get_native  # noqa: E402  pylint: disable=wrong-import-position

BUS = SystemMessageBus()


def members(xml):
    out = {}
    for iface in ET.fromstring(xml).iter('interface'):
        name = iface.get('name')
        if name.startswith('org.freedesktop.'):
            continue
        for m in iface:
            if m.tag == 'property':
                out[(name, 'property', m.get('name'))] = (m.get('type'), m.get('access'))
            elif m.tag in ('method', 'signal'):
                out[(name, m.tag, m.get('name'))] = tuple(
                    (a.get('direction', 'out') if m.tag == 'method' else 'out', a.get('type'),
                     a.get('name')) for a in m.iter('arg'))
    return out


for svc, idl in (('staf', 'stafd.idl'), ('stac', 'stacd.idl')):
    with open(os.path.join(PYPATH, 'staslib', idl), encoding='utf-8') as f:
        want = members(f.read())
    proxy = BUS.get_proxy(f'org.nvmexpress.{svc}', f'/org/nvmexpress/{svc}',
                          interface_name='org.freedesktop.DBus.Introspectable')
    got = members(proxy.Introspect())
    ok(got == want, f'introspection of /org/nvmexpress/{svc} matches nvme-stas\'s {idl}')
    if got != want:
        for k in sorted(set(want) | set(got)):
            if want.get(k) != got.get(k):
                print(f'#   {k}: idl {want.get(k)} / stas-cached {got.get(k)}')


# GetStatus() == stasadm status --json (JSON nulls are left out on D-Bus)
def drop_nulls(v):
    if isinstance(v, dict):
        return {k: drop_nulls(x) for k, x in v.items() if x is not None}
    if isinstance(v, list):
        return [drop_nulls(x) for x in v]
    return v


stas = BUS.get_proxy('org.nvmexpress.stas', '/org/nvmexpress/stas')
status = get_native(stas.GetStatus())
want = drop_nulls(stasadm('status'))
# stasadm's own live views (issue 14: the kernel's controllers with their
# registry owner, the host exclusion list's verdicts) are read by stasadm
# itself, not by the cache daemon.
for k in ('controllers', 'excluded', 'exclusion-list-problems'):
    want.pop(k, None)
# the kernel's fabrics capabilities are stasadm's own (read from /dev/nvme-fabrics)
want.pop('fabrics', None)
# so are the boot firmware's NBFT tables (read from /sys/firmware/acpi/tables)
want.pop('nbft', None)
ok(status == want, 'GetStatus() equals stasadm status --json')
if status != want:
    print('# got  ' + json.dumps(status, sort_keys=True)[:1500])
    print('# want ' + json.dumps(want, sort_keys=True)[:1500])
dc_list = get_native(stas.ListDCs())
# each DC's live kernel controller is stasadm's own view (sysfs), not the cache's
want_dcs = stasadm('ls')
for dc in want_dcs:
    dc.pop('live', None)
ok(dc_list == want_dcs, 'ListDCs() equals stasadm ls --json')

print(f'1..{N}')
sys.exit(1 if FAILED else 0)
