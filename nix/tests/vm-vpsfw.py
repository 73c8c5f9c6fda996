# vm-vpsfw.nix's script. Addresses and ports come from the machines themselves (the policy the
# module generated, /etc/hosts, the attacker's interface), so the .nix file is the one place that
# sets them. Type-checked by nixpkgs' driver and by tests/nix/vm-scripts.test.ts.
import json
import re

SSH = (
    "ssh -i /etc/vpsfw-test/id_snakeoil -o StrictHostKeyChecking=no"
    " -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o ConnectTimeout=5"
)


def unit_property(unit: str, prop: str) -> str:
    return server.succeed(f"systemctl show -P {prop} {unit}").strip()


def lines(path: str) -> int:
    """Lines of a file on the attacker."""
    return int(attacker.succeed(f"wc -l < {path}").strip())


start_all()
server.wait_for_unit("vpsfw.service")
server.wait_for_unit("web.service")
server.wait_for_unit("sshd.service")
server.wait_for_open_port(80)
server.wait_for_open_port(8080)

base = server.succeed("readlink -f /run/current-system").strip()
policy = json.loads(server.succeed("cat /etc/vpsfw/policy.json"))
denied = policy["denyNetworks"][0].split("/")[0]
ssh_port = next(r["localPorts"][0] for r in policy["rules"] if r["name"] == "ssh")
attacker_ip = server.succeed("getent ahostsv4 attacker").split()[0]
aliases = re.findall(r"inet ([0-9.]+)/32", attacker.succeed("ip -4 -o addr show dev eth1"))
probe = next(a for a in aliases if a != denied)


def switch(to: str) -> None:
    server.succeed(f"{base}/specialisation/{to}/bin/switch-to-configuration test")


with subtest("the rules were rendered at build time and applied by vpsfw-rules"):
    server.succeed("systemctl is-active vpsfw-rules.service")
    server.succeed("grep -q 'NFQUEUE --queue-num 0' /etc/vpsfw/rules.txt")
    for tables in ("iptables", "ip6tables"):
        server.succeed(f"{tables} -t raw -S PREROUTING | grep -q VPSFW")
        server.succeed(f"{tables} -t mangle -S | grep -q NFQUEUE")

with subtest("what NixOS' firewall opens is open; what only its extraCommands admit is not"):
    attacker.succeed("curl -sf --max-time 5 http://server/hostname")
    server.succeed("iptables -S nixos-fw | grep -q 'dport 8080'")
    attacker.fail("curl -sf --max-time 5 http://server:8080/hostname")

with subtest("a denied network is dropped in the kernel"):
    attacker.fail(f"curl -sf --max-time 5 --interface {denied} http://server/hostname")

with subtest("a payload rule drops"):
    attacker.fail("curl -sf --max-time 5 http://server/x/etc/passwd")
    attacker.succeed("curl -sf --max-time 5 http://server/hostname")

with subtest("vpsfw status"):
    print(server.succeed("vpsfw status"))
    server.succeed("vpsfw status --json | grep -q '\"payload:no-passwd\"'")

with subtest("a SYN flood gets its source banned, and released after its time"):
    attacker.succeed("timeout 20 hping3 -q -S -p 80 -i u500 -c 2000 server || true")
    server.wait_until_succeeds(f"vpsfw bans | grep -q '^{attacker_ip} '", timeout=10)
    server.succeed("journalctl -u vpsfw -o cat | grep '\"event\":\"ban\"' | grep -q synFlood")
    attacker.fail("curl -sf --max-time 3 http://server/hostname")
    server.wait_until_fails(f"vpsfw bans | grep -q '^{attacker_ip} '", timeout=60)
    attacker.wait_until_succeeds("curl -sf --max-time 3 http://server/hostname", timeout=30)

with subtest("SSH on a port of its own passes vpsfw"):
    assert ssh_port != 22, f"sshd should listen on a port of its own, the policy opens {ssh_port}"
    attacker.succeed(f"{SSH} -p {ssh_port} root@server true")

with subtest("a switch that changes the policy reloads both units and keeps an SSH session"):
    attacker.succeed(
        "systemd-run --unit=ssh-session --property=StandardOutput=file:/tmp/ticks"
        f" {SSH} -o ServerAliveInterval=1 -o ServerAliveCountMax=5 -p {ssh_port} root@server"
        " 'while sleep 0.2; do echo tick; done'"
    )
    attacker.wait_until_succeeds("test -s /tmp/ticks", timeout=30)
    server.succeed(f"vpsfw ban {denied} --for 1h --reason 'before the switch'")
    agent = unit_property("vpsfw.service", "MainPID")
    rules = unit_property("vpsfw-rules.service", "InvocationID")
    switch("second")
    attacker.wait_until_succeeds("curl -sf --max-time 3 http://server:8080/hostname", timeout=30)
    assert unit_property("vpsfw.service", "MainPID") == agent, "the agent was restarted, not reloaded"
    assert unit_property("vpsfw-rules.service", "InvocationID") == rules, "vpsfw-rules was restarted, not reloaded"
    server.succeed("journalctl -u vpsfw -o cat | grep -q '\"event\":\"reload\"'")
    server.succeed(f"vpsfw bans | grep -q '^{denied} '")
    ticks = lines("/tmp/ticks")
    attacker.wait_until_succeeds(f"[ $(wc -l < /tmp/ticks) -gt {ticks + 10} ]", timeout=30)
    attacker.succeed("systemctl is-active ssh-session.service")

with subtest("a new package restarts the agent, and a banned source gets nothing through meanwhile"):
    server.succeed(f"vpsfw ban {probe} --for 1h --reason 'the upgrade test'")
    agent = unit_property("vpsfw.service", "MainPID")
    rules = unit_property("vpsfw-rules.service", "InvocationID")
    attacker.succeed(
        "systemd-run --unit=banned-probe --property=StandardOutput=file:/tmp/probe"
        f" probe {probe} http://server/hostname"
    )
    attacker.wait_until_succeeds("[ $(wc -l < /tmp/probe) -ge 10 ]", timeout=30)
    switch("upgraded")
    server.wait_for_unit("vpsfw.service")
    assert unit_property("vpsfw.service", "MainPID") != agent, "the new package did not restart the agent"
    assert unit_property("vpsfw-rules.service", "InvocationID") == rules, "vpsfw-rules was restarted: the kernel state had a gap"
    tried = lines("/tmp/probe")
    attacker.wait_until_succeeds(f"[ $(wc -l < /tmp/probe) -gt {tried + 10} ]", timeout=30)
    attacker.succeed("systemctl stop banned-probe.service")
    print(attacker.succeed("sort /tmp/probe | uniq -c"))
    attacker.fail("grep -qv '^000$' /tmp/probe")
    server.fail(f"journalctl -u web.service | grep -qF '{probe} '")
    # The probe could have seen an answer: once unbanned, it gets one.
    server.succeed(f"vpsfw unban {probe}")
    attacker.succeed(f"curl -sf --max-time 3 --interface {probe} http://server/hostname")
    attacker.succeed("systemctl is-active ssh-session.service")
    attacker.succeed("systemctl stop ssh-session.service")

with subtest("the units' exposure"):
    for unit in ("vpsfw.service", "vpsfw-rules.service"):
        verdict = server.succeed(f"systemd-analyze security {unit} | tail -n 1")
        print(verdict)
        match = re.search(r"\.service: ([0-9.]+)", verdict)
        assert match is not None, f"no exposure score in: {verdict}"
        score = float(match.group(1))
        assert score <= 2.0, f"{unit}: exposure {score} above 2.0"
