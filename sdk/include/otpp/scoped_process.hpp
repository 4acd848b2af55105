// Lets a plain thread act as a process for as long as the object lives:
// self(), send(), receive() (which blocks the *thread*), link(), monitor() ...
// all work. For tests, consoles and host threads that must talk to processes
// (like CAF's scoped_actor). The destructor exits the process with `normal`.
//
// One per thread at a time; not movable across threads.
#pragma once

#include <otpp/export.hpp>
#include <otpp/term.hpp>

namespace otpp {

namespace runtime { class Process; }

class OTPP_API ScopedProcess {
public:
    ScopedProcess();
    ~ScopedProcess();
    ScopedProcess(const ScopedProcess&) = delete;
    ScopedProcess& operator=(const ScopedProcess&) = delete;

    Pid pid() const noexcept { return pid_; }

private:
    runtime::Process* process_;
    runtime::Process* previous_;
    Pid pid_;
};

}  // namespace otpp
