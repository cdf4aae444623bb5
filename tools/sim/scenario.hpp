// SPDX-License-Identifier: BSL-1.0
// eyeballs-sim's library: the scenario language of docs/behaviour.md §4 and a driver that
// plays a scenario against a RaceMachine in virtual time.
//
//   ParseResult parsed = parse_scenario(text, "race.scn");
//   if (!parsed.ok()) { std::cerr << parsed.error.text() << '\n'; return 2; }
//   SimOutput out = simulate(*parsed.scenario, TraceWriter::Format::json);
//
// The parser and the driver are pure functions of their input (no clock, no
// files, no globals), so the tool, the scenario tests, the property tests and
// the fuzzers all share them.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "eyeballs/action.hpp"
#include "eyeballs/config.hpp"
#include "eyeballs/endpoint.hpp"
#include "eyeballs/race_machine.hpp"
#include "eyeballs/report.hpp"
#include "eyeballs/svcb.hpp"
#include "eyeballs/trace.hpp"

namespace eyeballs::sim {

/// One `dns TYPE [NAME] at T: ...` line (TYPE AAAA, A or HTTPS).
struct DnsAnswer {
    enum class Kind : std::uint8_t { addresses, none, error, records };
    Family family = Family::v6;
    bool https = false;  ///< an HTTPS answer (Kind::records, none or error)
    /// "" for the origin; else the target or alias name as written (a
    /// Resolve's `name`: the answer is delivered once the race asked for it).
    std::string name;
    std::vector<SvcbRecord> records;  ///< Kind::records
    Duration at{};
    Kind kind = Kind::none;
    std::vector<Endpoint> addresses;  ///< Kind::addresses: never empty, all of `family`
    int code = 0;                     ///< Kind::error: the ERRNO, or 0 when not given
    int line = 0;
    /// Answers that change (v3 §4.4, §7; `config https=on`): `stale` marks a
    /// question's first answer as past its TTL (RaceMachine::handle_stale;
    /// for HTTPS records handle_stale_https),
    /// so the next plain answer for it is the fresh one; `update` is a
    /// changed answer for a question already answered (handle_dns_update).
    enum class Mark : std::uint8_t { plain, stale, update };
    Mark mark = Mark::plain;
};

/// One `connect A ...` or `tls A ...` line.
struct ConnectRule {
    /// ech_retry (tls lines): the server rejects ECH and gives `retry` as its
    /// retry configs, fed as handle_ech_retry.
    enum class Kind : std::uint8_t { ok, error, hang, ech_retry };
    Kind kind = Kind::hang;
    int code = 0;      ///< Kind::error
    Duration after{};  ///< ok / error: how long after the attempt starts (tls: after it connects)
    int line = 0;
    /// `protocol=` / `alpn=` keys: the rule applies only to attempts with that
    /// transport / offering that ALPN id. The most specific matching rule wins.
    std::optional<Protocol> protocol;
    std::optional<std::string> alpn;
    /// `ech=BASE64` (tls lines): only handshakes offering this ECHConfigList.
    std::optional<std::vector<std::uint8_t>> ech;
    std::vector<std::uint8_t> retry;  ///< Kind::ech_retry: the retry configs
};

/// The rule for an attempt: the most specific of `rules` (by protocol and
/// ALPN) matching it, or nullptr.
const ConnectRule* match_rule(const std::vector<ConnectRule>& rules, Protocol protocol,
                              const Service* service);

struct Scenario;
/// The `connect` rule for an attempt to `remote`: the most specific line.
const ConnectRule* connect_rule(const Scenario& sc, const Endpoint& remote, Protocol protocol,
                                const Service* service);

/// A file event (`dns` or `cancel`), in file order.
struct FileEvent {
    enum class Kind : std::uint8_t { dns, cancel };
    Kind kind = Kind::cancel;
    Duration at{};
    std::size_t dns_index = 0;  ///< into Scenario::dns, for Kind::dns
    int line = 0;
};

/// One `history ADDR rtt=DUR [network=ID]` line: preloads the RTT cache.
struct HistoryLine {
    Endpoint address;
    Duration rtt{};
    std::string network;  ///< empty: the default network
    bool then_failed = false;  ///< `last=failed`: a failure after the success (used, no RTT)
    int line = 0;
};

struct Scenario {
    std::string file;  ///< the name errors and messages use
    Config config;     ///< `config` lines, and `local` candidates in config.local
    std::uint16_t port = 443;
    bool dns_mode = false;
    std::vector<Endpoint> addresses;  ///< addresses mode, ports resolved
    std::vector<DnsAnswer> dns;       ///< DNS mode, in file order
    std::vector<FileEvent> events;    ///< dns and cancel lines, in file order
    std::map<Endpoint, int> open_errors;  ///< `open A error ERRNO`
    std::map<Endpoint, int> bind_errors;  ///< `bind L error ERRNO`
    /// `connect` lines without `protocol=`/`alpn=` keys, one per remote.
    std::map<Endpoint, ConnectRule> connects;
    /// `connect` lines with `protocol=` and/or `alpn=` keys (more specific).
    std::map<Endpoint, std::vector<ConnectRule>> service_connects;
    /// `tls` lines: the handshake's result (config success=tls), any keys.
    std::map<Endpoint, std::vector<ConnectRule>> handshakes;
    /// `history` lines, in file order (config.history is set by the driver,
    /// which owns the cache for the run).
    std::vector<HistoryLine> history;
    /// `history quic-broken [network=ID]` lines: networks where QUIC starts
    /// out marked broken (History::record_quic_broken at the race's start).
    std::vector<std::string> quic_broken;
    /// `progress A after D`: each QUIC attempt to A hears from its server D
    /// after it starts (RaceMachine::handle_progress).
    std::map<Endpoint, Duration> progress;
};

struct ParseError {
    std::string file;
    int line = 0;  ///< 0: the file as a whole
    std::string message;
    /// "FILE:LINE: message".
    std::string text() const;
};

struct ParseResult {
    std::optional<Scenario> scenario;
    ParseError error;  ///< when !scenario
    bool ok() const noexcept { return scenario.has_value(); }
};

/// Parses a scenario (docs/behaviour.md §4). `file` names it in error messages.
ParseResult parse_scenario(std::string_view text, const std::string& file);

/// Parses a duration: `0`, or a decimal number followed by `ms` or `s` in lower
/// case, exact to the nanosecond. nullopt (and `error` set) otherwise.
std::optional<Duration> parse_duration(std::string_view text, std::string* error = nullptr);

// ---- The virtual-time driver ---------------------------------------------

/// The fixed time point that is t=0 of every simulation.
TimePoint sim_origin();

struct RunResult {
    enum class End : std::uint8_t {
        finished,      ///< a Report came out (exit 0)
        never_ends,    ///< no event and no timer left, not finished (exit 3)
        start_failed,  ///< the machine refused to start (exit 2)
        broken,        ///< the machine broke a rule: an action after the report, or
                       ///< a timer that never stops asking and changes nothing (exit 4)
    };
    End end = End::finished;
    TimePoint last_time{};  ///< virtual time when the run stopped
    std::string message;    ///< start_failed / broken / never_ends: what happened
    std::uint32_t attempts_started = 0;
    std::uint32_t attempts_in_flight = 0;
    std::optional<RaceReport> report;  ///< finished only

    /// The tool's exit status: 0 finished, 3 never ends, 2 start failed, 4 broken.
    int exit_status() const noexcept;
};

/// Plays `scenario` against a fresh RaceMachine. Every action drained from the
/// machine is passed to `observer` (if set) with the virtual time it happened at.
/// OpenSocket and Bind are answered at once from the `open`/`bind` lines;
/// Connect schedules its result from the `connect` line. After the report, the
/// events left are still delivered (docs/behaviour.md §1 rule 10): any action they cause is
/// passed to `observer` too, and the run ends as `broken`.
RunResult run_scenario(const Scenario& scenario, const ActionObserver& observer = {});

/// What eyeballs-sim prints for a scenario, without any I/O.
struct SimOutput {
    int exit_status = 0;
    std::string out;  ///< stdout: the trace
    std::string err;  ///< stderr: messages
    RunResult run;    ///< when the scenario parsed
};

/// Runs `scenario` and renders the trace in `format` (docs/behaviour.md §5 or a timeline),
/// with the exit-3 message on `err`.
SimOutput simulate(const Scenario& scenario, TraceWriter::Format format, bool verbose = false);

/// Parses and runs `text` as eyeballs-sim would the file `file`: a bad file
/// gives exit 2 and "FILE:LINE: message" on `err`.
SimOutput simulate_text(std::string_view text, const std::string& file,
                        TraceWriter::Format format, bool verbose = false);

/// Splits text into lines (without the newlines; no empty last line).
std::vector<std::string> split_lines(const std::string& text);

}  // namespace eyeballs::sim
