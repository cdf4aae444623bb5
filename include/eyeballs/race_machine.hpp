// SPDX-License-Identifier: BSL-1.0
// eyeballs — RaceMachine: Happy Eyeballs (RFC 8305) as a sans-I/O state machine.
//
// The machine is fully deterministic. It never reads a clock, never touches a
// socket, never starts a thread: every input carries `now`, a time point the
// caller owns, and every output is an action the caller performs. The same
// inputs always give the same actions. This is what lets it run inside any
// event loop, and be tested in virtual time, by properties and by fuzzing.
//
// The run loop (what every adapter does):
//   1. Mutate: start(), start_resolving(), or feed one handle_*() input.
//   2. Drain: call poll_action() until it returns nullopt, and perform each
//      action. OpenSocket and Bind are answered at once (handle_opened,
//      handle_bound) while draining; Connect's answer comes later.
//   3. Arm one timer at next_timeout() (if it is already due, fire at once).
//   4. Wait for I/O or the timer.
//   5. Feed what happened back: I/O results first, then handle_timeout(now)
//      if the timer is due (docs/behaviour.md §7). Go to 2.
//   The race is over after a Report action; nothing follows it.
//
// Memory: the machine allocates only when its input grows (an address list,
// a DNS answer, a recorded error); timers, attempt state changes and actions
// never allocate.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "eyeballs/action.hpp"
#include "eyeballs/config.hpp"
#include "eyeballs/endpoint.hpp"
#include "eyeballs/error.hpp"
#include "eyeballs/input_status.hpp"
#include "eyeballs/report.hpp"
#include "eyeballs/svcb.hpp"

namespace eyeballs {

class RaceMachine;

namespace detail {
class Planner;  // Happy Eyeballs v3's names, services and ranks (src/v3/planner.hpp)
struct Rank;
struct HttpsStep;
}  // namespace detail

/// One endpoint of the race's plan (RaceMachine::plan()).
struct PlanEntry {
    Endpoint remote;
    Protocol protocol = Protocol::tcp;
    const Service* service = nullptr;  ///< null: no HTTPS record (plain A/AAAA)
    bool hint = false;                 ///< from an ipv4hint/ipv6hint, not an A/AAAA answer
    std::uint32_t attempt = 0;         ///< its attempt number; 0 = not started yet
};

/// Every adapter accepts one of these in its options (`on_action`): it is
/// called once per action the adapter performs, in order, with the time the
/// adapter uses for it, never concurrently with itself, the Report action last
/// (tools print the trace from it; a Report action's details come from
/// `machine.report()`). The poll and Asio adapters call it just before
/// performing the action, libevent just after; either way before the machine
/// hears the outcome. It may read `machine` but must not throw; how it may
/// cancel the race depends on the adapter (see each adapter's header).
using ActionObserver = std::function<void(TimePoint now, const Action& action,
                                          const RaceMachine& machine)>;

/// One race. Not thread-safe: feed a machine from one thread at a time (or
/// under one lock); distinct machines are independent. Inputs never throw for
/// network events; only memory exhaustion (std::bad_alloc) can escape, from
/// the calls that copy addresses or record errors, and whatever a caller's
/// `config.source_info` lookup throws.
class RaceMachine {
public:
    /// Takes the configuration as given (RFC 8305's defaults when omitted).
    /// It is checked by start() / start_resolving(), which fail with
    /// validate()'s message when it breaks a rule. `config.history`, when set,
    /// must outlive the machine.
    explicit RaceMachine(Config config = {});

    // ---- Commands: start the race (once) or cancel it --------------------

    /// Addresses mode: race `count` remotes (ports set; copied), in this order
    /// — or sorted by RFC 6724 when `config.sort` says so — interleaved by
    /// family (docs/behaviour.md §1). `now` is the race's start on the caller's clock.
    /// Actions that follow: OpenSocket for attempt 1. (When `config.local` has
    /// no candidate of its family, attempt 1 fails at once with no action, and
    /// the next attempt starts at the 10 ms floor: see next_timeout().)
    /// Fails, with a message and nothing started, when the configuration
    /// breaks a rule (validate()), the list is empty ("no addresses to race:
    /// the address list is empty"), a remote has port 0 ("remote [::1]:0
    /// (address 1 of 1) has port 0, which is not a valid remote port"), no
    /// address is left after NAT64 synthesis
    /// (`ipv4_unavailable` with `pref64`), or the race has already started or
    /// finished ("the race has already started" / "... finished").
    Status start(TimePoint now, const Endpoint* remotes, std::size_t count);
    /// The same, for a vector.
    Status start(TimePoint now, const std::vector<Endpoint>& remotes) {
        return start(now, remotes.data(), remotes.size());
    }
    /// DNS mode (docs/behaviour.md §2): the race starts at `now`. Actions that follow:
    /// Resolve{v6} (AAAA), then Resolve{v4} (A) — with `config.https`
    /// preceded by Resolve{https} (Happy Eyeballs v3 §4.1: HTTPS, AAAA, A;
    /// port-prefixed off port 443, RFC 9460 §9.1; then more for target and
    /// alias names, see handle_https). Answer each once, in any order, with
    /// handle_resolved / handle_https or handle_resolve_failed. Fails, with a
    /// message and nothing started, when the configuration breaks a rule or
    /// the race has already started or finished.
    Status start_resolving(TimePoint now);
    /// Ends the race at once. Actions that follow: Close for every opened
    /// socket still in flight, then Report{cancelled}; report() then says
    /// ECANCELED, "cancelled by the caller". Before start() it just ends the
    /// race (Report only). Ignored after the race has finished.
    InputStatus cancel(TimePoint now);

    // ---- Inputs: what happened ------------------------------------------
    //
    // Time: `now` may be any TimePoint. It never goes backwards inside the
    // machine: an input (or cancel) whose `now` is earlier than the latest
    // time seen is processed as if it happened at that latest time — it is
    // not ignored. Deadlines are computed with detail::saturating_add
    // (time.hpp): one past TimePoint::max() is TimePoint::max(), so any
    // duration up to Duration::max() and any start time are safe.
    //
    // Misuse: every input (and cancel) returns an InputStatus
    // (eyeballs/input_status.hpp): `accepted`; `late` when the race is over or
    // the attempt has already ended (normal in an event loop); or, for a
    // caller's bug, `unknown_attempt` (an id never issued) or `out_of_order`
    // (an answer to an action or question that was not given, or given
    // twice). Only `accepted` changes the machine. The value is not
    // [[nodiscard]]: late completions are routine and callers that only feed
    // the machine may drop it; check is_misuse() to catch bugs. "Ignored"
    // below means one of the last three values.

    /// A positive DNS answer for `family` (copied). Addresses of the other
    /// family are ignored; an empty answer counts as "no data" (as
    /// handle_resolve_failed with code 0). Ports are taken as given, but an
    /// address with port 0 (an adapter's bug: not a valid remote port) is left
    /// out like one of the other family. Ignored
    /// outside DNS mode, for a family that has already answered (unless that
    /// answer was stale: this is then its fresh one, see handle_stale), and after
    /// the race has finished. Actions that may follow: OpenSocket — at once
    /// for a first AAAA answer (or an A answer after AAAA failed); after the
    /// Resolution Delay for a first A answer (see next_timeout()); during the
    /// race as the Next Connection Attempt Timer allows (docs/behaviour.md §2) — or
    /// Report{failed} when the answer leaves nothing to try.
    InputStatus handle_resolved(TimePoint now, Family family, const Endpoint* addresses,
                                std::size_t count);
    /// The same, for a vector.
    InputStatus handle_resolved(TimePoint now, Family family,
                                const std::vector<Endpoint>& addresses) {
        return handle_resolved(now, family, addresses.data(), addresses.size());
    }
    /// The answer to a Resolve action for addresses (any name: the origin or,
    /// with `config.https`, a target name); `query` is that action. For the
    /// origin this is handle_resolved(now, query.family, ...). A target's
    /// answer replaces the hints its records gave for that family (unused ones
    /// are dropped) and adds its addresses to every service that names it.
    InputStatus handle_resolved(TimePoint now, const Resolve& query, const Endpoint* addresses,
                                std::size_t count);
    InputStatus handle_resolved(TimePoint now, const Resolve& query,
                                const std::vector<Endpoint>& addresses) {
        return handle_resolved(now, query, addresses.data(), addresses.size());
    }
    /// The HTTPS answer (RFC 9460 records, parsed) to a Resolve action with
    /// `https` set; none = no data. Records whose `mandatory` keys this library
    /// does not know are ignored (§8). AliasMode (§2.4.2, and ServiceMode
    /// records beside it ignored) is followed: a Resolve for the alias
    /// target's HTTPS records and its addresses, up to `config.alias_limit`
    /// hops. ServiceMode records become services (priority, port, ALPN, ECH;
    /// h3 ids give QUIC endpoints when `config.quic`), ordered per v3 §5, their
    /// hints used as addresses until the target's own answers arrive, and a
    /// Resolve for each new target name. After an AliasMode chain, the last
    /// name with the origin's port and no SvcParams is one more service,
    /// tried after the records' and before the origin's own addresses
    /// (RFC 9460 §3), also when that name's HTTPS query fails. The race
    /// starts (v3 §4.2) on an ipv6hint as on an AAAA answer, and without
    /// waiting for services ranked after the best one that has addresses.
    /// Records that are not self-consistent (a `mandatory` key absent,
    /// RFC 9460 §2.4.3, §8) are ignored. Ignored when `config.https` is off,
    /// for a query not outstanding, and after the race has finished.
    InputStatus handle_https(TimePoint now, const Resolve& query, const SvcbRecord* records,
                             std::size_t count);
    InputStatus handle_https(TimePoint now, const Resolve& query,
                             const std::vector<SvcbRecord>& records) {
        return handle_https(now, query, records.data(), records.size());
    }
    /// Answers that change (Happy Eyeballs v3 §4.3, §4.4, §7; `config.https`
    /// only — without it, and outside DNS mode, all three return out_of_order, so
    /// an RFC 8305 race takes each question's answer once, as before).
    ///
    /// handle_stale: a cached answer past its TTL for the address question
    /// `query` (not yet answered), raced at once like handle_resolved's
    /// ("optimistic DNS", §4.4) while the caller asks for a fresh one. The
    /// question stays open for exactly one more answer: the next
    /// handle_resolved for it replaces the stale addresses (as an update
    /// does); handle_resolve_failed with "no data" removes them, another
    /// failure keeps them (recorded, stage resolve). Until then the race
    /// counts the question as outstanding.
    InputStatus handle_stale(TimePoint now, const Resolve& query, const Endpoint* addresses,
                             std::size_t count);
    InputStatus handle_stale(TimePoint now, const Resolve& query,
                             const std::vector<Endpoint>& addresses) {
        return handle_stale(now, query, addresses.data(), addresses.size());
    }
    /// handle_stale_https: a cached HTTPS answer past its TTL (RFC 9460
    /// records, as handle_https takes them) for the HTTPS question `query`
    /// (not yet answered), raced at once (§4.4): its ServiceMode records are
    /// planned as handle_https plans them (services, hints, a Resolve for
    /// each new target name) and the race may start on them; the question
    /// stays open for exactly one more answer. The fresh one, handle_https,
    /// replaces it as a change (§7): a service it has again (same transport,
    /// priority, target, port, ALPN, ECH and hints) keeps its endpoints and
    /// takes its new place; the untried endpoints of the others leave
    /// (attempts in flight go on), new services join (their target names
    /// asked), and the whole untried list is sorted again. An identical
    /// fresh answer changes nothing; a fresh AliasMode record withdraws every
    /// stale service and its chain is followed. A fresh answer with no
    /// records, or a failed fresh query (handle_resolve_failed, any class),
    /// keeps the stale services (RFC 8767 serve-stale; HTTPS is optional, so
    /// nothing is recorded), and does not abandon the race over protected
    /// DNS (§6.3: the stale answer came from it). A stale answer with an
    /// AliasMode record or no ServiceMode record is taken and changes
    /// nothing: its question waits for the answer handle_https gives. A
    /// changed HTTPS answer after a fresh one is not taken (handle_dns_update
    /// is for address questions).
    InputStatus handle_stale_https(TimePoint now, const Resolve& query,
                                   const SvcbRecord* records, std::size_t count);
    InputStatus handle_stale_https(TimePoint now, const Resolve& query,
                                   const std::vector<SvcbRecord>& records) {
        return handle_stale_https(now, query, records.data(), records.size());
    }
    /// handle_dns_update: a new answer for an address question already
    /// answered (a DNS push, a query repeated after the TTL ran out),
    /// replacing it; empty = the name has no addresses of that family now.
    /// Any number of times. Endpoints not yet attempted that came from the
    /// old answer and are not in the new one leave the race; those in both
    /// stay; new ones join; then the whole list not yet attempted is sorted
    /// again (§7: groups, then RFC 6724 and history over the complete list).
    /// Attempts in flight (or over) are never touched. Hints the target's
    /// records gave go, as on its first answer. out_of_order for a question
    /// not answered yet (give it handle_resolved) or not asked.
    InputStatus handle_dns_update(TimePoint now, const Resolve& query, const Endpoint* addresses,
                                  std::size_t count);
    InputStatus handle_dns_update(TimePoint now, const Resolve& query,
                                  const std::vector<Endpoint>& addresses) {
        return handle_dns_update(now, query, addresses.data(), addresses.size());
    }
    /// A failed query of any kind (`query` is its Resolve action). For an
    /// HTTPS query this is "no HTTPS records" and records no error (HTTPS is
    /// optional); a target's failed address query keeps its hints (code 0 with
    /// no detail is "no data", as for the origin: it drops them).
    InputStatus handle_resolve_failed(TimePoint now, const Resolve& query, int code = 0,
                                      std::string_view detail = {});
    /// A negative DNS answer for `family`: `code` 0 and empty `detail` mean
    /// "no data"; otherwise an errno value and/or the resolver's text (copied
    /// into the recorded error, stage `resolve`). Ignored like
    /// handle_resolved. Actions that may follow: OpenSocket (a negative AAAA
    /// ends the Resolution Delay at once), or Report{failed} when both
    /// families have failed, or nothing is left to try and nothing is in
    /// flight.
    InputStatus handle_resolve_failed(TimePoint now, Family family, int code = 0,
                                      std::string_view detail = {});
    /// As above, with the DNS class of the failure (Error::dns; see
    /// eyeballs/error.hpp): what an adapter reports so that NXDOMAIN, NODATA,
    /// a server failure, a timeout and a malformed answer read the same in
    /// every adapter. `nodata` is "no data" (code and detail are ignored);
    /// for the other classes an empty detail is given the class's name, so
    /// the machine treats them as failures (an HTTPS target keeps its hints).
    InputStatus handle_resolve_failed(TimePoint now, const Resolve& query, DnsError dns,
                                      int code = 0, std::string_view detail = {});
    InputStatus handle_resolve_failed(TimePoint now, Family family, DnsError dns, int code = 0,
                                      std::string_view detail = {});
    /// The answer to OpenSocket, given at once: 0, or the errno of a failed
    /// socket creation (recorded, stage `open`; that socket was never opened
    /// and gets no Close). Actions that may follow: Bind (when `config.local`
    /// has candidates of the attempt's family) or Connect; after a failure,
    /// OpenSocket for the next candidate (fail fast, not before the 10 ms
    /// floor) or Report{failed}. Ignored for an unknown attempt, one not
    /// waiting for this answer, or after the race has finished.
    InputStatus handle_opened(TimePoint now, AttemptId id, int code = 0);
    /// The answer to Bind, given at once: 0, or the errno of the failed bind
    /// (recorded, stage `bind`, even if a later candidate works). Actions that
    /// may follow: Connect (with `local` set); Bind to the next local
    /// candidate of the family; when none is left, Close for this attempt and
    /// what a failure brings (OpenSocket for the next candidate, or
    /// Report{failed}). Ignored like handle_opened.
    InputStatus handle_bound(TimePoint now, AttemptId id, int code = 0);
    /// The attempt's connect completed. Actions that follow: Close for every
    /// other attempt in flight, then Report{connected} naming this attempt;
    /// its socket now belongs to the caller. Ignored for an unknown attempt,
    /// one that is not connecting, or after the race has finished (a success
    /// after the winner: that socket already got its Close).
    InputStatus handle_connected(TimePoint now, AttemptId id);
    /// With `config.success` = handshake: the TCP attempt's TLS handshake,
    /// which the caller runs after handle_connected(), completed. (A QUIC
    /// attempt's connect is its handshake, v3 §6.1: it wins at
    /// handle_connected() and gets no handle_secured().)
    /// Actions that follow: as handle_connected's with `config.success` =
    /// connect. Ignored for an attempt not waiting for its handshake.
    InputStatus handle_secured(TimePoint now, AttemptId id);
    /// The handshake failed with errno `code` (recorded, stage `tls`, with
    /// `detail` — e.g. the TLS library's reason — as the error's detail): as
    /// a connect failure. Ignored like handle_secured.
    InputStatus handle_secure_failed(TimePoint now, AttemptId id, int code,
                                     std::string_view detail = {});
    /// A QUIC attempt heard from its server (its first reply, e.g. the
    /// server's Initial packet): it is making progress. With
    /// `config.quic_progress` the next attempt then waits the whole attempt
    /// delay after it, not half (curl's soft QUIC timer), and a QUIC attempt
    /// that heard something and then failed does not mark QUIC broken on the
    /// network (History::record_quic_broken). No action follows; only
    /// next_timeout() may move later. Ignored for a TCP attempt, one not in
    /// flight, an unknown id, or after the race has finished.
    InputStatus handle_progress(TimePoint now, AttemptId id);
    /// With `config.ech` not off: the server rejected attempt `id`'s ECH and
    /// gave `retry_configs` (an ECHConfigList; RFC 9849 §6.1.6) during the
    /// handshake a CryptoReady action started. The attempt fails (stage
    /// tls, EPROTO, "ECH rejected ...") and its endpoint is tried again at
    /// once (not before the 10 ms floor), ahead of every other candidate,
    /// offering the retry configs: a new attempt whose CryptoReady carries
    /// them. Once per endpoint (remote and protocol): a second rejection
    /// fails the attempt like handle_secure_failed and returns an error
    /// saying so. Also an error, with nothing changed: ech off, no such
    /// attempt in its handshake, an attempt that offered no ECH, empty
    /// configs, or the race over.
    Status handle_ech_retry(TimePoint now, AttemptId id, std::vector<std::uint8_t> retry_configs);
    /// The attempt's connect failed with errno `code` (ECONNREFUSED, ...;
    /// recorded, stage `connect`). Actions that may follow: Close for this
    /// attempt; OpenSocket for the next candidate — at once when this was the
    /// newest attempt (fail fast, not before the 10 ms floor), else when the
    /// Next Connection Attempt Timer fires — or Report{failed} when it was the
    /// last hope. Ignored like handle_connected.
    InputStatus handle_connect_failed(TimePoint now, AttemptId id, int code);
    /// Fires whatever timers are due at `now`, in docs/behaviour.md §1 rule 8's order:
    /// overall timeout, attempt timeouts (in attempt order), resolution delay,
    /// next attempt. May be called early, late or twice: it does what is due.
    /// Actions that may follow: OpenSocket (the next attempt, or the first
    /// after the Resolution Delay); Close for each attempt that timed out
    /// (recorded as ETIMEDOUT, stage `timeout`) and what its failure brings;
    /// on the overall timeout, Close for everything in flight and
    /// Report{failed} (ETIMEDOUT). Ignored before start and after the end.
    InputStatus handle_timeout(TimePoint now);

    // ---- Outputs ---------------------------------------------------------

    /// The next action to perform, or nullopt when there is none for now.
    /// Call it until nullopt after every input (answering OpenSocket and Bind
    /// in between is expected). Close actions pending at an instant come
    /// before the others; Report is always last, and after it poll_action()
    /// returns nullopt for good. Never fails.
    std::optional<Action> poll_action();
    /// The one deadline to arm (the earliest of the overall timeout, attempt
    /// timeouts, the Resolution Delay and the next attempt's start), or
    /// nullopt when no timer is running (before start, after the end, or
    /// while only I/O can move the race). It may already have passed: then
    /// call handle_timeout() at once.
    std::optional<TimePoint> next_timeout() const;

    // ---- Getters ---------------------------------------------------------

    /// The configuration the machine was made with.
    const Config& config() const noexcept { return config_; }
    /// True once start(), start_resolving() or cancel() has taken effect.
    bool started() const noexcept { return phase_ != Phase::idle; }
    /// True once the Report action has been queued.
    bool finished() const noexcept { return phase_ == Phase::done; }
    /// The outcome once finished; nullopt before.
    std::optional<Outcome> outcome() const noexcept;
    /// True once the overall timeout has ended the race.
    bool overall_timed_out() const noexcept { return overall_timed_out_; }
    /// Attempts numbered so far.
    std::uint32_t attempts_started() const noexcept { return started_count_; }
    /// Attempts whose socket is open (or about to be) and not yet closed/won.
    std::uint32_t attempts_in_flight() const noexcept { return in_flight_; }
    /// Candidates not yet tried.
    std::size_t candidates_left() const noexcept { return remaining_[0] + remaining_[1]; }
    /// Builds the full report, a value the caller owns: winner, or the
    /// summary error and every recorded error; every attempt with its
    /// timings (report.hpp). Complete once finished; before that, the state so
    /// far with outcome `failed` and message "the race has not finished".
    /// Allocates; call it once, at the end.
    RaceReport report() const;
    /// Every endpoint the race knows, in the order it tries them: the
    /// attempts made so far (in start order), then the candidates left in the
    /// order they would start if no other answer came. With `config.https`
    /// this is the HTTPS-driven plan (v3 §5): QUIC before TCP, ECH before
    /// none, SvcPriority, then RFC 6724 and families interleaved within.
    /// Service pointers are the machine's. Allocates.
    std::vector<PlanEntry> plan() const;
    /// What is known of attempt `id` so far (its remote, timings, state and,
    /// once it failed, its error), as report() would list it; nullopt for an
    /// id the machine never issued. For observers printing a Close: allocates.
    std::optional<AttemptRecord> attempt_record(AttemptId id) const;
    /// DNS mode: every query so far in the order asked, with its answer once
    /// taken (report.hpp DnsQuery). Observers print answers from it.
    const std::vector<DnsQuery>& queries() const noexcept { return queries_; }
    /// The services built from HTTPS records so far, in the order they were made.
    const std::deque<Service>& services() const noexcept;
    /// Heap bytes held (capacity of internal tables), for the benchmarks.
    std::size_t heap_bytes() const noexcept;

private:
    enum class Phase : std::uint8_t { idle, resolving, racing, done };
    enum class DnsState : std::uint8_t { pending, positive, negative };
    enum class AState : std::uint8_t {
        unused,      // not started
        opening,     // OpenSocket queued, waiting for handle_opened
        binding,     // Bind queued, waiting for handle_bound
        connecting,  // Connect queued / in progress
        securing,    // connected, waiting for the caller's handshake (Success::handshake)
        failed,      // failed; socket closed (or never opened)
        won,
        closed,      // closed by the end of the race (lost, cancelled, timed out)
    };
    static constexpr std::uint32_t npos = UINT32_MAX;

    struct Candidate {
        Endpoint remote;
        TimePoint started{};
        TimePoint ended{};
        std::uint32_t next_in_family = npos;  // per-family list of unused candidates
        std::uint32_t next_in_order = npos;   // arrival-order list (interleave=off)
        std::uint32_t attempt = 0;            // attempt number, 0 = not started
        std::uint16_t local_index = 0;        // local candidate being tried / bound
        AState state = AState::unused;
        bool socket_open : 1;    // OpenSocket was handed to the adapter
        bool bound : 1;
        bool close_pending : 1;
        bool hint : 1;           // from an HTTPS record's hint (v3)
        bool dropped : 1;        // not to be tried (v3): skipped by pick_slot
        bool shadowed : 1;       // dropped for a better twin; back if that one is withdrawn
        bool off_family : 1;     // dropped and taken off its family list
        bool off_order : 1;      // taken off the arrival-order list
        bool ech_refused : 1;    // dropped by the ECH guard; back if the origin stops offering ECH
        std::uint16_t service = no_service;  // index into v3().services; its rank orders it
        Candidate()
            : socket_open(false), bound(false), close_pending(false), hint(false),
              dropped(false), shadowed(false), off_family(false), off_order(false),
              ech_refused(false) {}
    };
    static constexpr std::uint16_t no_service = UINT16_MAX;
    enum class QKind : std::uint8_t { resolve6, resolve4, resolve_https, open, bind, connect, report, crypto_ready };
    struct QEntry {
        QKind kind;
        std::uint32_t slot;
    };
    struct ErrorRec {
        std::uint32_t attempt;  // 0 = resolve
        std::uint32_t slot;     // candidate slot; npos for resolve
        std::uint32_t local;    // local index of a failed bind; npos = none
        std::uint32_t detail;   // index into details_; npos = none
        int code;
        Stage stage;
        Family family;
        DnsError dns = DnsError::none;  // resolve errors (race_machine_dns.cpp)
    };
    static constexpr std::size_t ring_capacity = 8;

    Status check_startable() const;
    std::size_t add_candidates(Family only, bool filter, const Endpoint* eps, std::size_t n,
                               bool front, std::uint16_t service = no_service,
                               bool hint = false);
    void link_sorted(std::uint32_t slot, std::uint32_t batch_first, bool front);
    void link_one(std::uint32_t slot, std::uint32_t batch_first, bool front, std::uint32_t& head,
                  std::uint32_t& tail, std::uint32_t Candidate::*next);
    enum class Twin : std::uint8_t { none, better, attempted };
    Twin supersede(const Endpoint& remote, Protocol protocol, const detail::Rank& rank,
                   std::size_t limit);
    void revive(const Candidate& c);
    void readmit(std::uint32_t slot);
    Protocol protocol_of(const Candidate& c) const noexcept;
    /// v3 §5 group order (lower first): the service's, or the fallback's.
    detail::Rank rank_of(const Candidate& c) const noexcept;
    const Service* service_of(const Candidate& c) const noexcept;
    std::uint32_t target_of(const Resolve& query) const;
    void target_answer(Family family, std::uint32_t target, bool replace_hints);
    void add_service_addresses(std::uint16_t service, Family family);
    const std::vector<Endpoint>& keep_answer(std::uint32_t target, Family family,
                                             const Endpoint* addresses, std::size_t count);
    void new_addresses();
    bool service_waiting() const;
    bool live_hint(Family family) const noexcept;
    void add_service_candidates(const detail::HttpsStep& step);
    bool https_pending() const noexcept;
    InputStatus resolved(TimePoint now, std::uint32_t target, Family family,
                         const Endpoint* addresses, std::size_t count);
    InputStatus resolve_failed(TimePoint now, std::uint32_t target, Family family, int code,
                               std::string_view detail);
    // Answers that change, v3 §4.4/§7 (race_machine_changes.cpp; the rules are src/v3/changes.hpp's)
    bool changing(std::uint32_t target, Family family) const noexcept;  // a stale one's fresh answer
    InputStatus change_answer(TimePoint now, std::uint32_t target, Family family,
                              const Endpoint* addresses, std::size_t count);
    InputStatus fresh_failed(TimePoint now, std::uint32_t target, Family family, int code,
                             std::string_view detail);
    InputStatus answer_change(TimePoint now, const Resolve& query, const Endpoint* addresses,
                              std::size_t count, bool stale);
    InputStatus fresh_https(TimePoint now, const SvcbRecord* records, std::size_t count);
    void resort_pending();
    std::optional<Endpoint> admit(const Endpoint& e, Family only, bool filter) const;
    // The family an address is grouped, interleaved and counted in: its own,
    // except a v3 address synthesized for an IPv6-only host, which groups as
    // the IPv4 address it carries (src/v3/dns64.hpp, the editor's copy §8.2).
    Family group_family(const Endpoint& e) const noexcept;
    void sort_batch(std::size_t first);
    void sort_batch_addresses(std::size_t first);
    bool has_twin(const Endpoint& remote, Protocol protocol, std::size_t limit) const;
    std::size_t drop_repeats(std::size_t first);  // config.duplicates; returns the count removed
    std::size_t cap_batch(std::size_t first);  // config.max_endpoints; returns the kept count
    Duration delay_after(const Candidate& c) const;
    void advance(TimePoint now, bool from_timer);
    void resolving_progress(TimePoint now, bool from_timer);
    bool start_due(TimePoint now, bool from_timer) const;
    std::optional<TimePoint> next_start_at() const;  // nullopt when no start is pending
    void start_attempt(TimePoint now);
    std::uint32_t pick_slot();
    void bind_next_or_connect(TimePoint now, std::uint32_t slot);
    void fail_attempt(TimePoint now, std::uint32_t slot);
    void finish(TimePoint now, Outcome outcome, std::uint32_t winner_slot);
    void check_all_failed(TimePoint now);
    std::uint32_t lookup(AttemptId id) const;
    std::uint32_t attempt_in(AttemptId id, AState state) const;  // npos unless in `state`
    InputStatus refused(AttemptId id) const;  // why an attempt input was not taken
    void record(Stage stage, std::uint32_t attempt, std::uint32_t slot, Family family, int code,
                std::uint32_t local, std::string_view detail);
    void finish_or_secure(TimePoint now, std::uint32_t slot);
    // QUIC progress (race_machine_quic.cpp, src/v3/quic_progress.hpp).
    Duration next_delay() const noexcept;
    void quic_started(const Candidate& c);
    void quic_failed(const Candidate& c);
    void quic_verdict(TimePoint now, std::uint32_t winner_slot);
    // ECH and v3 §6.3 (race_machine_ech.cpp; the rules are src/v3/crypto.hpp's)
    bool ech_connected(TimePoint now, std::uint32_t slot);  // true: the attempt failed
    bool ech_ready(TimePoint now, std::uint32_t slot);      // true: the attempt failed
    void ech_https_settled(TimePoint now);
    void ech_guard();
    std::string ech_summary() const;  // "" unless the guard kept endpoints out
    void classify_resolve_errors(std::size_t from, DnsError dns);
    // The class the adapter gave for the failure being handled (the DnsError
    // overloads of handle_resolve_failed set it around the plain one), so the
    // query log records it too.
    DnsError incoming_dns_ = DnsError::none;
    // The DNS query log (queries()): asked in push(), answered by the inputs.
    DnsQuery* query_for(std::uint32_t target, Family family, bool https);
    void note_answer(std::uint32_t target, Family family, bool https, const Endpoint* addresses,
                     std::size_t count, std::size_t records);
    void note_failure(std::uint32_t target, Family family, bool https, int code,
                      std::string_view detail);
    Error make_error(const ErrorRec& e) const;
    AttemptRecord make_record(std::uint32_t slot) const;
    RaceMetrics metrics(const RaceReport& r) const;
    void push(QKind kind, std::uint32_t slot);
    bool pop(QEntry& out);
    void mark_close(Candidate& c);
    TimePoint clamp(TimePoint now);
    TimePoint enter(TimePoint now);
    bool dns_outstanding() const noexcept;
    bool in_flight_state(AState s) const noexcept {
        return s == AState::opening || s == AState::binding || s == AState::connecting ||
               s == AState::securing;
    }

    Config config_;
    std::vector<Candidate> cands_;
    std::vector<ErrorRec> errors_;
    std::vector<std::string> details_;
    std::vector<DnsQuery> queries_;
    std::vector<std::uint32_t> query_targets_;  // per query: its target (0 = origin)
    QEntry ring_[ring_capacity] = {};
    std::vector<QEntry> overflow_;  // only when the caller does not drain
    std::size_t overflow_head_ = 0;
    std::uint8_t ring_head_ = 0;
    std::uint8_t ring_size_ = 0;

    TimePoint start_time_{};
    TimePoint now_{};
    TimePoint last_start_{};
    Duration current_delay_{};  // the Next Connection Attempt Timer's length after the last start
    TimePoint finished_at_{};
    std::optional<TimePoint> resolution_deadline_;
    TimePoint extended_until_ = TimePoint::min();  // Success::handshake: timer pushed back

    // Happy Eyeballs v3's planner (config_.https), made on first use behind one
    // pointer: a race without https pays 8 bytes and no allocation for it.
    class V3Box {  // a deep-copying owner (RaceMachine stays copyable: plan() copies it)
    public:
        V3Box() noexcept;
        V3Box(const V3Box& o);
        V3Box(V3Box&& o) noexcept;
        V3Box& operator=(const V3Box& o);
        V3Box& operator=(V3Box&& o) noexcept;
        ~V3Box();
        detail::Planner& get();
        const detail::Planner* peek() const noexcept { return p_.get(); }

    private:
        std::unique_ptr<detail::Planner> p_;
    };
    V3Box v3_;
    detail::Planner& v3() { return v3_.get(); }
    const detail::Planner& v3() const {  // only called once https state exists
        return *v3_.peek();
    }

    std::uint32_t fam_head_[2] = {npos, npos};  // next unused candidate per family
    std::uint32_t fam_tail_[2] = {npos, npos};
    std::uint32_t order_head_ = npos;  // next unused candidate in arrival order
    std::uint32_t order_tail_ = npos;
    std::uint32_t remaining_[2] = {0, 0};
    std::uint32_t started_count_ = 0;
    std::uint32_t in_flight_ = 0;
    std::uint32_t pending_closes_ = 0;
    std::uint32_t winner_slot_ = npos;
    Family first_family_ = Family::v6;
    Family last_family_ = Family::v6;
    Phase phase_ = Phase::idle;
    Outcome outcome_ = Outcome::failed;
    DnsState dns_[2] = {DnsState::positive, DnsState::positive};
    bool dns_mode_ = false;
    bool fail_fast_ = false;  // the newest attempt failed while a candidate was left
    bool overall_timed_out_ = false;
    bool triggered_ = false;  // this input made the next start immediate (start_due)
    std::size_t dropped_ = 0;  // endpoints left out by config.max_endpoints
    std::uint32_t duplicates_dropped_ = 0;  // endpoints left out as repeats (config.duplicates)
};

}  // namespace eyeballs
