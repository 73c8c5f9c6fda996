# What nixpkgs' driver puts before a test script for its mypy check (nixos/lib/test-script-prepend.py):
# the driver's globals, typed. A `name: Machine` line for each node of the scenario follows, then the
# script (tests/nix/vm-scripts.test.ts writes the file as the driver does).
from typing import Callable, ContextManager

from test_driver.machine import Machine

start_all: Callable[[], None]
join_all: Callable[[], None]
subtest: Callable[[str], ContextManager[None]]
machines: list[Machine]
