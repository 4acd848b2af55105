// Applications: the supervision trees a host runs, started in config order and
// stopped in reverse (OTP's application controller, reduced to what a host
// needs: every application is "permanent" — if its top supervisor dies, the
// host stops).
#pragma once

#include "host_config.hpp"

#include <otpp/term.hpp>

#include <vector>

namespace otpp::host {

// The supervisor spec term (see otpp/supervisor.hpp) for a configured tree.
Term supervisor_spec_term(const SupervisorSpec& spec);

class Applications {
public:
    struct Running {
        Atom name;
        Pid supervisor;
    };

    // Starts every application; on the first failure stops those already
    // started (reverse order) and throws otpp::Error naming the application
    // and the reason. In a process that traps exits.
    void start_all(const std::vector<ApplicationSpec>& specs);
    // Stops every running application, last started first; each top
    // supervisor terminates its children in reverse order.
    void stop_all();
    // The application whose top supervisor is `pid`, if any.
    const Running* find(Pid pid) const;
    const std::vector<Running>& running() const { return running_; }

private:
    std::vector<Running> running_;
};

}  // namespace otpp::host
