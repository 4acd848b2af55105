// One upgrade in progress, shared by the coordinator (upgrade.cpp) and the
// processes it migrates (the GenServer engine). Host-owned: nothing here has
// code in a plugin.
//
// The conversation, all messages in the processes' own mailboxes so that a
// migration happens between two callbacks and never overtakes a message:
//
//   atomic:  coordinator -> each: {'$system', Id, prepare}
//            each builds its new state beside the old one, records itself
//            here (prepared or failed) and waits, suspended, for
//            coordinator -> each: {'$system', Id, commit | abort}
//            The last process to prepare, or the first to fail, tells the
//            coordinator: {Id, all_prepared} / {Id, failed}.
//   rolling: coordinator -> one: {'$system', Id, migrate}
//            it converts and switches at once, then answers {Id, done}.
//
// A process that gets its message after the coordinator has given up (a
// deadline passed) finds the phase changed and does nothing: the phase is
// checked and the process's result recorded under one lock.
#pragma once

#include "module_version.hpp"
#include "upgrade.hpp"

#include "../runtime/spinlock.hpp"

#include <otpp/term.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

namespace otpp::code {

struct Migration {
    // open: processes may still migrate; then committed or aborted (atomic) or
    // finished (rolling): a process arriving late does nothing.
    enum class Phase { open, committed, aborted, finished };

    Ref id;
    UpgradeMode mode = UpgradeMode::atomic;
    std::shared_ptr<const ModuleVersion> from;
    std::shared_ptr<const ModuleVersion> to;
    bool downgrade = false;
    Term old_vsn;   // what code_change receives: <<"1.0.0">> or {down, <<"2.0.0">>}
    Term to_vsn;    // downgrade's first argument: <<"1.0.0">>
    Term extra;
    Pid coordinator;

    // Guards everything below. Every migrating process takes it twice for a
    // few instructions; a std::mutex made 100k processes queue in the kernel.
    runtime::Spinlock mutex;
    Phase phase = Phase::open;
    std::size_t expected = 0;  // atomic: how many must prepare
    std::vector<Pid> prepared;
    std::vector<Pid> migrated;
    std::vector<ProcessFailure> failed;
    std::vector<uint32_t> suspended_us;  // per migrated process
};

}  // namespace otpp::code
