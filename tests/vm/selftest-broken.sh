#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# A scenario that fails on purpose: the harness must report it as a failure
# (tests/vm/run exits 1), so make check catches broken scenarios.
echo "not ok 1 - this scenario fails on purpose"
exit 1
