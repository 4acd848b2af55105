// What the runtime knows about one process (erlang:process_info/1), for the
// console and for tests. A snapshot: it may be stale by the time you read it.
#pragma once

#include <otpp/term.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace otpp {

enum class ProcessStatus : std::uint8_t { runnable, running, waiting, suspended, exiting };

constexpr std::string_view to_string(ProcessStatus s) noexcept {
    switch (s) {
        case ProcessStatus::runnable: return "runnable";
        case ProcessStatus::running: return "running";
        case ProcessStatus::waiting: return "waiting";
        case ProcessStatus::suspended: return "suspended";
        case ProcessStatus::exiting: return "exiting";
    }
    return "?";
}

struct ProcessInfo {
    Pid pid;
    ProcessStatus status = ProcessStatus::runnable;
    std::size_t message_queue_len = 0;
    std::uint64_t reductions = 0;
    // Bytes this process holds: its control block, queued messages (shallow)
    // and the fiber stack reserved for it (virtual; only touched pages are resident).
    std::size_t memory = 0;
    std::size_t stack_size = 0;
    std::vector<Pid> links;
    std::vector<Pid> monitors;      // processes this one monitors
    std::vector<Pid> monitored_by;  // processes monitoring this one
    std::optional<Atom> registered_name;
    bool trap_exit = false;
    // What it runs: the spawn label, or "function (file:line)" of the spawn site.
    std::string initial_call;
    // The behaviour module and its version ("" for a plain function).
    std::string module;
    std::string module_version;
    // The behaviour callback it is in ("handle_call" ...), "" if none.
    std::string current_callback;
    int scheduler = -1;  // the scheduler that last ran it
};

}  // namespace otpp
