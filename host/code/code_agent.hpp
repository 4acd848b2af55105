// The code server's agent for other nodes (Erlang's nl/1, made an upgrade):
// a process registered as `otpp_code` on every distributed otpp node. Another
// otpp node ships it a plugin and it upgrades the module here:
//
//   gen_server:call({otpp_code, Node},
//                   {upgrade, Module, FileName, Content, Options}) ->
//       the upgrade's report (UpgradeReport::to_term) plus node => Node,
//       or {error, <<"why">>} for a request it cannot run
//
// Module is the atom the sender expects the file to hold (refused if it
// holds another); FileName a base name (kept in the shipped copy's name);
// Content the file's bytes; Options as upgrade_options.hpp reads them. The
// file is written under the module table's private directory, shipped/.
// One request at a time: upgrades are serial anyway.
#pragma once

#include "module_table.hpp"

#include <otpp/pid.hpp>

namespace otpp::code {

inline constexpr const char* code_agent_name = "otpp_code";

// Starts and registers the agent (from a process or not). Throws BadArg if
// the name is taken.
OTPP_API Pid start_code_agent(ModuleTable& modules);

}  // namespace otpp::code
