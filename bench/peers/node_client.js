#!/usr/bin/env node
// SPDX-License-Identifier: BSL-1.0
// Node.js as a benchmarked Happy Eyeballs client (issue 7).
//
// N concurrent net.connect({host, port, autoSelectFamily: true,
// autoSelectFamilyAttemptTimeout: 250, lookup}) calls in one process, against
// a world that eyeballs-bench-world runs. `lookup` is the option Node offers
// for custom resolution: called with {all: true} (autoSelectFamily asks for
// every address), it answers [::1] then 127.0.0.1 for "bench.test" at once,
// so no system file is touched and no DNS is involved. Node then tries IPv6
// first, IPv4 after the attempt timeout or at once when IPv6 fails.
//
// Measured like eyeballs-bench: a race starts just before net.connect (which
// begins connecting synchronously) and ends at its 'connect' event; CPU is
// process.cpuUsage() around the burst (the winners are destroyed after it);
// fds are counted in /proc/self/fd before the burst and after the winners
// are closed. One warm-up race comes first (--no-warmup skips it). Prints the
// same JSON keys as eyeballs-bench --json.
//
// usage: node node_client.js --port P --rtt-ns R --world blackhole6|refused6|both
//                            --races N [--attempt-delay MS] [--json] [--samples FILE]
'use strict';
const fs = require('fs');
const net = require('net');

const HOST = 'bench.test';

function parseArgs(argv) {
  const a = { attemptDelay: 250, json: false, samples: null, warmup: true };
  for (let i = 2; i < argv.length; i++) {
    const k = argv[i];
    const v = () => argv[++i];
    if (k === '--port') a.port = Number(v());
    else if (k === '--rtt-ns') a.rttNs = Number(v());
    else if (k === '--world') a.world = v();
    else if (k === '--races') a.races = Number(v());
    else if (k === '--attempt-delay') a.attemptDelay = Number(v());
    else if (k === '--samples') a.samples = v();
    else if (k === '--json') a.json = true;
    else if (k === '--no-warmup') a.warmup = false;
    else { console.error(`node_client: unknown option ${k}`); process.exit(2); }
  }
  if (!a.port || a.rttNs === undefined || !a.world || !a.races) {
    console.error('usage: node_client.js --port P --rtt-ns R --world W --races N [--attempt-delay MS] [--json]');
    process.exit(2);
  }
  return a;
}

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;
// VmHWM: getrusage's maxRSS survives fork and execve, so it would include the
// harness that started this process.
const peakRssKib = () => Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]);
const openFds = () => fs.readdirSync('/proc/self/fd').length - 1;
function nearestRank(sorted, q) {
  if (sorted.length === 0) return null;
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1];
}

async function main() {
  const args = parseArgs(process.argv);
  const addresses = [{ address: '::1', family: 6 }, { address: '127.0.0.1', family: 4 }];
  const lookup = (host, options, cb) => {
    if (host !== HOST) return cb(Object.assign(new Error('unknown host'), { code: 'ENOTFOUND' }));
    if (options && options.all) return cb(null, addresses);
    return cb(null, addresses[0].address, addresses[0].family);
  };
  const race = () => new Promise((resolve) => {
    const start = nowMs();
    const s = net.connect({
      host: HOST, port: args.port, lookup,
      autoSelectFamily: true, autoSelectFamilyAttemptTimeout: args.attemptDelay,
    });
    const onError = () => resolve({ start, end: nowMs(), sock: null });
    s.once('error', onError);
    s.once('connect', () => {
      s.removeListener('error', onError);
      s.on('error', () => {});
      resolve({ start, end: nowMs(), sock: s });
    });
  });
  const closeAll = (socks) => Promise.all(socks.map((s) => new Promise((resolve) => {
    s.once('close', resolve);
    s.destroy();
  })));

  if (args.warmup) {
    const w = await race();
    if (w.sock) await closeAll([w.sock]);
  }

  const fdsBefore = openFds();
  const cpu0 = process.cpuUsage();
  const t0 = nowMs();
  const pending = [];
  for (let i = 0; i < args.races; i++) pending.push(race());
  const results = await Promise.all(pending);
  const cpu = process.cpuUsage(cpu0);
  const rss = peakRssKib();

  const socks = results.filter((r) => r.sock).map((r) => r.sock);
  const wonV6 = socks.filter((s) => s.remoteFamily === 'IPv6').length;
  await closeAll(socks);
  await new Promise((r) => setImmediate(r));
  const fdsAfter = openFds();

  const rttMs = args.rttNs / 1e6;
  let ideal = rttMs;
  if (args.world === 'blackhole6') ideal += args.attemptDelay;
  else if (args.world === 'refused6') ideal += rttMs;  // no 10 ms floor: Node fails over at once
  const conn = results.filter((r) => r.sock).map((r) => r.end - r.start);
  const late = conn.map((c) => c - ideal);
  if (args.samples) {
    fs.writeFileSync(args.samples, late.map((l, i) => `${l.toFixed(4)} ${conn[i].toFixed(4)}\n`).join(''));
  }
  conn.sort((x, y) => x - y);
  late.sort((x, y) => x - y);
  const n = args.races;
  const lastEnd = results.reduce((m, r) => Math.max(m, r.end), t0);
  const lastStart = results.reduce((m, r) => Math.max(m, r.start), t0);
  const r3 = (x) => (x === null ? null : Math.round(x * 1000) / 1000);
  const out = {
    client: 'node', world: args.world, races: n, races_requested: n,
    connected: conn.length, failed: n - conn.length,
    cpu_us_per_race: r3((cpu.user + cpu.system) / n), user_us_per_race: r3(cpu.user / n),
    sys_us_per_race: r3(cpu.system / n),
    connect_ms_p50: r3(nearestRank(conn, 0.5)), connect_ms_p99: r3(nearestRank(conn, 0.99)),
    lateness_ms_p50: r3(nearestRank(late, 0.5)), lateness_ms_p99: r3(nearestRank(late, 0.99)),
    lateness_ms_max: r3(late.length ? late[late.length - 1] : null),
    peak_rss_kib: rss, fds_left_open: fdsAfter - fdsBefore,
    ideal_ms: r3(ideal), rtt_ms: r3(rttMs), attempt_delay_ms: args.attemptDelay,
    min_start_gap_ms: 0, makespan_ms: r3(lastEnd - t0), start_burst_ms: r3(lastStart - t0), won_v6: wonV6, won_v4: conn.length - wonV6,
    version: process.version,
  };
  if (args.json) console.log(JSON.stringify(out));
  else for (const [k, v] of Object.entries(out)) console.log(`${k}: ${v}`);
}

main();
