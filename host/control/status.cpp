#include "status.hpp"

#include <otpp/gen_server.hpp>

namespace otpp::control {

std::optional<Term> server_status(Pid pid, Timeout timeout) { return gen_server::get_status(pid, timeout); }

}  // namespace otpp::control
