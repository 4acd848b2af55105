// The upgrade coordinator: validates, then drives the conversation described
// in migration.hpp with every GenServer pinned to the running version.
#include "upgrade.hpp"

#include "migration.hpp"
#include "plugin_library.hpp"

#include "../runtime/current.hpp"
#include "../runtime/deadline.hpp"
#include "../runtime/kernel.hpp"
#include "../runtime/process.hpp"
#include "../runtime/signal.hpp"

#include <otpp/process.hpp>
#include <otpp/scoped_process.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <set>

namespace otpp::code {

namespace {

using Clock = std::chrono::steady_clock;

const Atom system_atom("$system");
const Atom prepare_atom("prepare"), commit_atom("commit"), abort_atom("abort"), migrate_atom("migrate");
const Atom failed_atom("failed");
// How often the coordinator counts the processes that prepared or switched,
// and how often it looks for dead ones among those missing; for how long,
// once it has told them all, it looks again at once (yielding in between)
// before waiting a poll.
constexpr std::chrono::milliseconds kPoll{1}, kLookForDead{100};
constexpr std::chrono::microseconds kQuickLook{200};
const Atom down_atom("down");

// "1.10.2" < "1.9" is false: dotted numbers compare number by number. Only
// when both are dotted numbers can an upgrade be recognised as a downgrade.
std::optional<std::vector<long>> dotted(const std::string& v) {
    std::vector<long> parts;
    const char* p = v.data();
    const char* end = p + v.size();
    while (p < end) {
        long n = 0;
        auto [next, ec] = std::from_chars(p, end, n);
        if (ec != std::errc() || n < 0) return std::nullopt;
        parts.push_back(n);
        p = next;
        if (p == end) break;
        if (*p != '.') return std::nullopt;
        ++p;
        if (p == end) return std::nullopt;
    }
    if (parts.empty()) return std::nullopt;
    return parts;
}

bool is_lower(const std::string& a, const std::string& b) {
    auto x = dotted(a), y = dotted(b);
    return x && y && *x < *y;
}

// {'$system', Id, What}.
Term system_message(Atom what, Ref id) { return Term::tuple({system_atom, id, what}); }

// How many processes a sender wakes before it lets them run (see send_each).
constexpr std::size_t kSendBurst = 16;

// Sends {'$system', Id, What} to each pid in [begin, end), one tuple for all
// of them: the processes a sender wakes run on its scheduler (a woken
// process goes to its waker's queue), so the tuple's reference count stays
// on one core, and an allocation and a free per process are saved. (One
// tuple for every receiver of every sender had both cores fight over it.)
void send_each(const Pid* begin, const Pid* end, Atom what, Ref id) {
    const Term message = system_message(what, id);
    runtime::Process& me = runtime::require_process();
    auto& kernel = runtime::current_kernel();
    for (const Pid* p = begin; p != end;) {
        const Pid* burst_end = p + std::min<std::size_t>(kSendBurst, static_cast<std::size_t>(end - p));
        // One burst's cache misses and page walks overlap (Kernel::send_many).
        kernel.send_many(p, burst_end, me.pid(), message);
        me.consume_reductions(static_cast<int32_t>(burst_end - p));
        p = burst_end;
        // Let the few just woken run now, while what waking them warmed
        // (their control blocks, the top of their stacks, the TLB entries)
        // is still cached: a whole slice of sends queues thousands of
        // processes, each cold again by the time it runs.
        if (p != end) yield();
    }
}

// Sends {'$system', Id, What} to every pid. With more than one scheduler the
// sending is shared among helper processes, one per scheduler: a single
// sender is the bottleneck with 100k servers, while the other schedulers sit
// idle. Each sender takes a contiguous part: between `bounds` (one part per
// sender: [b0, b1), [b1, b2) ...) when there are as many parts as senders,
// else an even share. The helpers share the pids' ownership: they may
// outlive us if we are killed while we wait for them.
using Pids = std::shared_ptr<const std::vector<Pid>>;
void send_all(const Pids& pids, Atom what, Ref id, const std::vector<std::size_t>& bounds = {}) {
    std::size_t n = pids->size();
    std::size_t senders = std::min<std::size_t>(runtime::current_kernel().options().schedulers, n / 1024 + 1);
    std::size_t chunk = (n + senders - 1) / senders;
    bool by_bounds = bounds.size() == senders + 1;
    auto part = [&](std::size_t s) {
        return by_bounds ? std::pair{bounds[s], bounds[s + 1]}
                         : std::pair{std::min(n, s * chunk), std::min(n, (s + 1) * chunk)};
    };
    std::vector<Ref> helpers;
    for (std::size_t s = 1; s < senders; ++s) {
        auto [first, end] = part(s);
        helpers.push_back(spawn_monitor([pids, first, end, what, id] {
                              send_each(pids->data() + first, pids->data() + end, what, id);
                          }).second);
    }
    auto [first, end] = part(0);
    send_each(pids->data() + first, pids->data() + end, what, id);
    // When we return, every process has been told.
    for (Ref ref : helpers) receive(match::tuple(atoms::DOWN, ref, match::_, match::_, match::_));
}


// Waits for {Id, What...} from a migrating process until `deadline`.
std::optional<Term> await(runtime::Process& me, Ref id, Clock::time_point deadline, runtime::Signal* mark) {
    return me.receive([&](const Term& m) { return m.is_tuple() && m.size() >= 2 && m[0].is_ref() && m[0].get<Ref>() == id; },
                      deadline, mark);
}

// Migrates `pids` `batch` at a time (the rolling mode; also the sweep for
// processes that started on the old version during an atomic upgrade).
// Records timeouts in m.failed; the processes record the rest themselves.
void migrate_rolling(runtime::Process& me, Migration& m, std::vector<Pid> pids, const UpgradeOptions& options) {
    std::size_t batch = std::max<std::size_t>(1, options.batch);
    std::vector<std::pair<Pid, Clock::time_point>> in_flight;
    std::size_t next = 0;
    runtime::Signal* mark = me.mailbox_mark();
    while (next < pids.size() || !in_flight.empty()) {
        while (next < pids.size() && in_flight.size() < batch) {
            send(pids[next], system_message(migrate_atom, m.id));
            in_flight.emplace_back(pids[next], Clock::now() + options.suspend_timeout);
            ++next;
        }
        auto earliest = std::min_element(in_flight.begin(), in_flight.end(),
                                         [](auto& a, auto& b) { return a.second < b.second; });
        auto answer = await(me, m.id, earliest->second, mark);
        if (answer && answer->size() == 3 && (*answer)[2].is_pid()) {
            Pid who = (*answer)[2].get<Pid>();
            std::erase_if(in_flight, [&](auto& f) { return f.first == who; });
            continue;
        }
        // Timed out: whoever is past its deadline stays on the old version
        // (busy in a callback, or gone).
        auto now = Clock::now();
        for (auto& [pid, deadline] : in_flight) {
            if (deadline > now || !is_process_alive(pid)) continue;
            Migration::AllShards lock(m);
            m.record_failure(m.shards[0], {pid, "suspend", Atom("timeout")});
        }
        std::erase_if(in_flight, [&](auto& f) { return f.second <= now; });
    }
}

std::vector<Pid> behaviours_pinned(ModuleTable& modules, const ModuleVersion& v, std::vector<Pid>* others = nullptr) {
    std::vector<Pid> out, inherited;
    modules.pinned_to(&v, out, inherited);
    if (others) others->insert(others->end(), inherited.begin(), inherited.end());
    return out;
}

class Coordinator {
public:
    Coordinator(ModuleTable& modules, const UpgradeOptions& options, UpgradeReport& report)
        : modules_(modules), options_(options), report_(report), me_(runtime::require_process()) {}

    void run(const std::filesystem::path& file) {
        std::shared_ptr<PluginLibrary> library;
        try {
            library = PluginLibrary::load(file, LoadOptions{modules_.private_dir(), options_.allow_unpurgeable});
        } catch (const std::exception& e) {
            report_.error = e.what();
            return;
        }
        auto to = make_version(library->descriptor());
        to->library = library;
        to->file = file.string();
        report_.module = to->name;
        report_.to_version = to->version;
        auto from = modules_.current(to->name);
        auto older = modules_.old(to->name);
        if (from) report_.from_version = from->version;
        if (auto refusal = refuse(from, *to)) {
            report_.error = "cannot upgrade to " + to->label() + " (" + file.string() + "): " + *refusal;
            library->unload();
            return;
        }
        report_.downgrade = from && (options_.direction == UpgradeDirection::down ||
                                     (options_.direction == UpgradeDirection::automatic &&
                                      is_lower(to->version, from->version)));
        if (from) servers_started_ = from->servers_started.load(std::memory_order_acquire);
        std::vector<Pid> migrate = from ? behaviours_pinned(modules_, *from, &report_.stayed) : std::vector<Pid>{};
        if (options_.dry_run) {
            report_.outcome = UpgradeReport::Outcome::dry_run;
            report_.migrated = std::move(migrate);
            if (older) {
                report_.purged_before.version = older->version;
                for (auto& p : modules_.pinned_to(older.get())) report_.purged_before.killed.push_back(p.pid);
            }
            to.reset();
            library->unload();
            return;
        }
        if (!from) {  // a first load: nothing to migrate
            modules_.install(std::move(to));
            report_.outcome = UpgradeReport::Outcome::upgraded;
            return;
        }
        auto m = std::make_shared<Migration>();
        m->id = make_ref();
        m->mode = options_.mode;
        m->from = from;
        m->to = to;
        m->downgrade = report_.downgrade;
        m->old_vsn = report_.downgrade ? Term::tuple({down_atom, Term::binary(from->version)})
                                       : Term::binary(from->version);
        m->to_vsn = Term::binary(to->version);
        m->extra = options_.extra;
        m->coordinator = me_.pid();
        m->make_pins();
        modules_.set_migration(m);

        try {
            if (options_.mode == UpgradeMode::atomic) atomic(m, std::move(migrate), std::move(older));
            else rolling(m, std::move(migrate), std::move(older));
        } catch (...) {
            // We were killed (or failed) half-way: no server may stay
            // suspended waiting for a decision that will never come.
            release_suspended(*m);
            modules_.set_migration(nullptr);
            throw;
        }

        modules_.set_migration(nullptr);
        collect(*m);
        m.reset();
        if (report_.outcome == UpgradeReport::Outcome::rolled_back) {
            // Every prepared process drops its new state (with the new code)
            // when it reads the abort; then nothing holds the new version.
            auto unloaded = modules_.unload_unused(std::move(to), std::chrono::seconds(10));
            if (!unloaded.unmapped) report_.error += "; the new version could not be unloaded: " + unloaded.detail;
            return;
        }
        to.reset();
        // Nothing pinned to the old version holds it but the table and us:
        // then no scan of every process is needed to know it is unused.
        bool unused = from.use_count() <= 2 || modules_.pinned_to(from.get()).empty();
        if (report_.outcome == UpgradeReport::Outcome::upgraded && options_.soft_purge_after && unused &&
            modules_.old(report_.module) == from)
            report_.purged_after = modules_.purge_version(std::move(from));
    }

private:
    std::optional<std::string> refuse(const std::shared_ptr<const ModuleVersion>& from, const ModuleVersion& to) {
        if (!from) {
            if (!options_.allowed_from.empty()) return std::string("the module is not loaded");
            return std::nullopt;
        }
        if (!from->library) return "module " + std::string(to.name.name()) + " is built into the host";
        if (from->version == to.version) return to.label() + " is already the current version";
        if (from->kind != to.kind) return std::string("the behaviour kind differs from the running version's");
        if (!options_.allowed_from.empty() &&
            std::find(options_.allowed_from.begin(), options_.allowed_from.end(), from->version) ==
                options_.allowed_from.end())
            return "the running version " + from->version + " is not among the allowed from-versions";
        return std::nullopt;
    }

    void atomic(const std::shared_ptr<Migration>& m, std::vector<Pid> servers,
                std::shared_ptr<const ModuleVersion> older) {
        auto buffer = std::make_shared<std::vector<Pid>>(std::move(servers));
        const Pids targets = buffer;
        const std::vector<Pid>& pids = *targets;
        runtime::Signal* mark = me_.mailbox_mark();
        {
            Migration::AllShards lock(*m);
            // Room for twice an even share of the processes in each
            // scheduler's shard (work stealing spreads them unevenly),
            // reserved now: growing a vector of 100k pids while the
            // processes record themselves makes the allocator consolidate
            // every small chunk they have freed.
            std::size_t used = std::min<std::size_t>(runtime::current_kernel().options().schedulers, kMigrationShards);
            std::size_t each = std::min(pids.size(), pids.size() / std::max<std::size_t>(1, used) * 2) + 64;
            for (std::size_t i = 0; i < used; ++i) {
                m->shards[i].prepared.reserve(each);
                m->shards[i].migrated.reserve(each);
                m->shards[i].suspended_us.reserve(each);
            }
        }
        send_all(targets, prepare_atom, m->id);
        // Each process records itself in its shard. We count them every
        // millisecond (rather than have the last one tell us: that needs one
        // counter every process bumps, and both cores fought over it), hear
        // at once of a failure, and look every 100 ms whether the only ones
        // missing are dead ones: a process that died meanwhile is no reason
        // to roll back.
        bool commit = pids.empty();
        bool timed_out = false;
        auto deadline = Clock::now() + options_.suspend_timeout;
        auto look_for_dead = Clock::now() + kLookForDead;
        auto quick_until = Clock::now() + kQuickLook;
        while (!commit) {
            auto answer = next_look(m->id, quick_until, deadline, mark);
            if (answer && (*answer)[1].is_atom(failed_atom)) break;
            if (answer) continue;
            if (m->prepared_count() >= pids.size()) {
                commit = true;
                break;
            }
            auto now = Clock::now();
            if (now >= look_for_dead) {
                if (missing_alive(*m, pids).empty()) {
                    commit = true;
                    break;
                }
                look_for_dead = now + kLookForDead;
            }
            if (now >= deadline) {
                timed_out = true;
                break;
            }
        }
        Pids committed;
        std::vector<std::size_t> shard_bounds;
        std::vector<Pid> late;
        bool aborted;
        {
            Migration::AllShards lock(*m);
            aborted = !commit || m->any_failed();
            m->set_phase(aborted ? Migration::Phase::aborted : Migration::Phase::committed);
            if (aborted) {
                committed = std::make_shared<const std::vector<Pid>>(m->all_prepared(&shard_bounds));
            } else {
                // Into the targets' buffer (the prepare's senders are gone,
                // and `pids` is not read after a commit): no 1.2 MB copy
                // into fresh pages for 100k servers.
                m->all_prepared(*buffer, &shard_bounds);
                committed = targets;
            }
        }
        const std::vector<Pid>& prepared = *committed;
        if (aborted) {
            // Those not prepared in time are why; after another's failure
            // they were merely not reached.
            if (timed_out) late = missing_alive(*m, pids);
            for (Pid pid : prepared) send(pid, system_message(abort_atom, m->id));
            Migration::AllShards lock(*m);
            for (Pid pid : late) m->record_failure(m->shards[0], {pid, "suspend", Atom("timeout")});
            report_.outcome = UpgradeReport::Outcome::rolled_back;
            return;
        }
        // Commit: from now on new processes start on the new version.
        modules_.install(m->to);
        // Each scheduler's shard by one sender, in the order its processes
        // prepared: the first to prepare, who have waited longest, switch
        // first. (The shards one after the other, cut in halves, had the
        // early ones of the second shard wait for the whole first one: a
        // suspension of up to the whole upgrade.)
        send_all(committed, commit_atom, m->id, shard_bounds);
        // Wait until each has switched, so that the report is complete
        // (counted every millisecond, as above).
        look_for_dead = Clock::now() + kLookForDead;
        quick_until = Clock::now() + kQuickLook;
        while (!prepared.empty() && m->migrated_count() < prepared.size()) {
            next_look(m->id, quick_until, Clock::time_point::max(), mark);
            if (Clock::now() < look_for_dead) continue;
            look_for_dead = Clock::now() + kLookForDead;
            // A committed process that died before switching is not waited for.
            Migration::AllShards lock(*m);
            std::size_t gone = 0;
            auto migrated = m->all_migrated();
            std::set<Pid> switched(migrated.begin(), migrated.end());
            for (Pid pid : prepared)
                if (!switched.count(pid) && !is_process_alive(pid)) ++gone;
            if (migrated.size() + gone >= prepared.size()) break;
        }
        if (older) report_.purged_before = modules_.purge_version(std::move(older));
        sweep(*m);
        report_.outcome = UpgradeReport::Outcome::upgraded;
    }

    void rolling(const std::shared_ptr<Migration>& m, std::vector<Pid> pids,
                 std::shared_ptr<const ModuleVersion> older) {
        // The new version is current from the start; the third-version rule
        // applies first, as for a plain load.
        if (older) report_.purged_before = modules_.purge_version(std::move(older));
        modules_.install(m->to);
        migrate_rolling(me_, *m, std::move(pids), options_);
        sweep(*m);
        Migration::AllShards lock(*m);
        m->set_phase(Migration::Phase::finished);
        report_.outcome = m->any_failed() ? UpgradeReport::Outcome::partial : UpgradeReport::Outcome::upgraded;
    }

    // Prepared servers wait for a decision: before the commit, abort (they
    // keep their old state); after it, the commit again (a duplicate is
    // ignored). Late ones find the phase closed and do nothing.
    void release_suspended(Migration& m) noexcept {
        try {
            std::vector<Pid> prepared;
            Atom decision = abort_atom;
            {
                Migration::AllShards lock(m);
                if (m.phase == Migration::Phase::open) m.set_phase(m.mode == UpgradeMode::atomic
                                                                       ? Migration::Phase::aborted
                                                                       : Migration::Phase::finished);
                if (m.phase == Migration::Phase::committed) decision = commit_atom;
                prepared = m.all_prepared();
            }
            // Straight to the inboxes: we may be a dying process, which must
            // not reach a yield point (it would be cut loose half-way).
            auto& kernel = runtime::current_kernel();
            for (Pid pid : prepared)
                kernel.send_signal(pid, new runtime::Signal(runtime::SignalKind::Message, m.coordinator,
                                                            system_message(decision, m.id)));
        } catch (...) {
            // Out of memory for a message: nothing more can be done here.
        }
    }

    // Processes that started on the old version while we worked (a start in
    // flight when the new version became current) are migrated one by one.
    void sweep(Migration& m) {
        if (m.from->servers_started.load(std::memory_order_acquire) == servers_started_) return;
        std::set<Pid> seen;
        {
            Migration::AllShards lock(m);
            for (auto& s : m.shards) {
                seen.insert(s.migrated.begin(), s.migrated.end());
                for (auto& f : s.failed) seen.insert(f.failure.pid);
            }
        }
        std::vector<Pid> stragglers;
        for (Pid pid : behaviours_pinned(modules_, *m.from))
            if (!seen.count(pid)) stragglers.push_back(pid);
        if (stragglers.empty()) return;
        {
            Migration::AllShards lock(m);
            m.set_phase(Migration::Phase::open);
            m.mode = UpgradeMode::rolling;
        }
        migrate_rolling(me_, m, std::move(stragglers), options_);
    }

    // Waits for {Id, What...} from a migrating process: until `quick_until`
    // only for those still queued to run (we yield to them: they take
    // microseconds, a timer at least a millisecond), then for up to kPoll.
    std::optional<Term> next_look(Ref id, Clock::time_point quick_until, Clock::time_point deadline,
                                  runtime::Signal* mark) {
        auto now = Clock::now();
        if (now < quick_until) {
            yield();
            return await(me_, id, now, mark);  // one already here, or none
        }
        return await(me_, id, std::min(deadline, now + kPoll), mark);
    }

    std::vector<Pid> missing_alive(Migration& m, const std::vector<Pid>& pids) {
        std::set<Pid> answered;
        {
            Migration::AllShards lock(m);
            for (auto& s : m.shards) {
                answered.insert(s.prepared.begin(), s.prepared.end());
                for (auto& f : s.failed) answered.insert(f.failure.pid);
            }
        }
        std::vector<Pid> out;
        for (Pid pid : pids)
            if (!answered.count(pid) && is_process_alive(pid)) out.push_back(pid);
        return out;
    }

    void collect(Migration& m) {
        Migration::AllShards lock(m);
        report_.failed = m.all_failed();
        if (report_.outcome != UpgradeReport::Outcome::rolled_back) {
            report_.migrated = m.take_all_migrated();
            // A process that timed out but switched before the end counts as migrated.
            if (!report_.failed.empty()) {
                std::set<Pid> migrated(report_.migrated.begin(), report_.migrated.end());
                std::erase_if(report_.failed, [&](const ProcessFailure& f) { return migrated.count(f.pid) > 0; });
            }
            if (report_.outcome == UpgradeReport::Outcome::partial && report_.failed.empty())
                report_.outcome = UpgradeReport::Outcome::upgraded;
        }
        if (report_.outcome == UpgradeReport::Outcome::rolled_back && !report_.failed.empty()) {
            const ProcessFailure& f = report_.failed.front();
            report_.error = "rolled back: " + Term(f.pid).to_string() + " failed in " + f.phase + ": " +
                            f.reason.to_string();
        }
        std::vector<uint32_t> us = m.take_all_suspended_us();
        if (!us.empty()) {
            // The p99 and the maximum without sorting 100k figures: the
            // element a sort would put at p99's index, then the largest above it.
            auto p99 = us.begin() + static_cast<std::ptrdiff_t>((us.size() - 1) * 99 / 100);
            std::nth_element(us.begin(), p99, us.end());
            report_.suspend_p99 = std::chrono::microseconds(*p99);
            report_.suspend_max = std::chrono::microseconds(*std::max_element(p99, us.end()));
        }
    }

    ModuleTable& modules_;
    const UpgradeOptions& options_;
    UpgradeReport& report_;
    runtime::Process& me_;
    uint64_t servers_started_ = 0;  // on the version being left, when we looked for its servers
};


Term pid_list(const std::vector<Pid>& pids) {
    std::vector<Term> out(pids.begin(), pids.end());
    return Term::list(std::move(out));
}

}  // namespace

const char* to_string(UpgradeReport::Outcome o) noexcept {
    switch (o) {
        case UpgradeReport::Outcome::upgraded: return "upgraded";
        case UpgradeReport::Outcome::partial: return "partial";
        case UpgradeReport::Outcome::rolled_back: return "rolled_back";
        case UpgradeReport::Outcome::refused: return "refused";
        case UpgradeReport::Outcome::dry_run: return "dry_run";
    }
    return "?";
}

UpgradeReport upgrade(ModuleTable& modules, const std::filesystem::path& file, const UpgradeOptions& options) {
    auto started = Clock::now();
    auto report = std::make_shared<UpgradeReport>();
    report->mode = options.mode;
    auto coordinate = [&modules, file, options, report] {
        std::lock_guard serial(modules.serial());
        Coordinator(modules, options, *report).run(file);
    };
    // The coordinator talks to processes, so it must be one, and a fiber: a
    // thread acting as a process pays a futex wake for every process it
    // sends to (measured: 0.9 us a message, 87 ms for 100k). Its own process,
    // with a stack for loading and validating a library, and not linked to
    // the caller: killing the caller does not abandon an upgrade half-way.
    std::optional<ScopedProcess> as_process;
    if (!runtime::current_process()) as_process.emplace();
    auto [pid, ref] = spawn_monitor(coordinate, SpawnOptions{.stack_size = 1024 * 1024, .label = "code upgrade"});
    Term down = receive(match::tuple(atoms::DOWN, ref, match::_, match::_, match::_));
    if (down[4] != Term(atoms::normal) && report->error.empty())
        report->error = "the upgrade coordinator " + Term(pid).to_string() + " died: " + down[4].to_string();
    report->total = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started);
    // The log keeps every upgrade's report (one entry, the text form).
    bool fine = report->outcome == UpgradeReport::Outcome::upgraded || report->outcome == UpgradeReport::Outcome::dry_run;
    spdlog::log(fine ? spdlog::level::info : spdlog::level::warn, "code upgrade {}", report->to_text());
    return *report;
}

Term UpgradeReport::to_term() const {
    std::vector<Term> failures;
    for (auto& f : failed)
        failures.push_back(Term::map({{Atom("pid"), f.pid}, {Atom("phase"), Term::binary(f.phase)}, {Atom("reason"), f.reason}}));
    return Term::map({
        {Atom("outcome"), Atom(to_string(outcome))},
        {Atom("module"), module},
        {Atom("from"), Term::binary(from_version)},
        {Atom("to"), Term::binary(to_version)},
        {Atom("mode"), Atom(mode == UpgradeMode::atomic ? "atomic" : "rolling")},
        {Atom("downgrade"), downgrade},
        {Atom("error"), Term::binary(error)},
        {Atom("migrated"), pid_list(migrated)},
        {Atom("failed"), Term::list(std::move(failures))},
        {Atom("stayed"), pid_list(stayed)},
        {Atom("purged_before"), purged_before.to_term()},
        {Atom("purged_after"), purged_after ? purged_after->to_term() : Term(atoms::undefined)},
        {Atom("suspend_max_us"), static_cast<int64_t>(suspend_max.count())},
        {Atom("suspend_p99_us"), static_cast<int64_t>(suspend_p99.count())},
        {Atom("total_us"), static_cast<int64_t>(total.count())},
    });
}

std::string UpgradeReport::to_text() const {
    std::string label = std::string(module.name()) + " " + (from_version.empty() ? "-" : from_version) + " -> " +
                        (to_version.empty() ? "?" : to_version);
    std::string out = std::string(to_string(outcome)) + ": " + label + " (" +
                      (mode == UpgradeMode::atomic ? "atomic" : "rolling") + (downgrade ? ", downgrade" : "") + ")\n";
    if (!error.empty()) out += "  error: " + error + "\n";
    out += "  " + std::string(outcome == Outcome::dry_run ? "would migrate " : "migrated ") +
           std::to_string(migrated.size()) + ", failed " + std::to_string(failed.size()) + ", stayed on " +
           (from_version.empty() ? "-" : from_version) + " " + std::to_string(stayed.size()) + ", " +
           (outcome == Outcome::dry_run ? "would kill " : "killed ") + std::to_string(purged_before.killed.size()) +
           (purged_before.version.empty() ? "" : " (on " + purged_before.version + ")") + "\n";
    for (auto& f : failed)
        out += "  failed " + Term(f.pid).to_string() + " in " + f.phase + ": " + f.reason.to_string() + "\n";
    if (!purged_before.version.empty() && outcome != Outcome::dry_run)
        out += "  purged " + purged_before.version + (purged_before.unmapped ? ": unmapped (verified)" : ": NOT unmapped: " + purged_before.detail) + "\n";
    if (purged_after)
        out += "  purged " + purged_after->version + (purged_after->unmapped ? ": unmapped (verified)" : ": NOT unmapped: " + purged_after->detail) + "\n";
    out += "  suspend max " + std::to_string(suspend_max.count()) + " us, p99 " + std::to_string(suspend_p99.count()) +
           " us; total " + std::to_string(total.count() / 1000.0).substr(0, 8) + " ms\n";
    return out;
}

}  // namespace otpp::code
