// Upgrade plans: several modules upgraded together, in dependency order (an
// appup/relup in one TOML file). docs/UPGRADES.md describes the format:
//
//   mode = "atomic"                 # defaults for every step
//   suspend_timeout_ms = 2000
//   pre_purge = "brutal"            # soft: refuse a step while processes run
//                                   #   the version a load would purge;
//                                   # brutal: kill them (Erlang's load)
//   post_purge = "soft"             # soft | brutal | none, after each step
//
//   [[upgrade]]
//   module = "counter"
//   file = "counter-2.0.0.so"       # relative to the plan file
//   from = ["1.0.0"]                # allowed from-versions (optional)
//   extra = "{add_field, ops}"      # a term, passed to code_change
//   requires = ["kv"]               # steps to run first (optional)
//   mode = "rolling"                # and batch, suspend_timeout_ms, direction
//
// Running a plan first validates every step (a dry run of each: the files
// load, name the step's module, and the running versions are allowed), then
// runs the steps in order; the first step that does not fully upgrade stops
// the plan, and the report lists what was done, what failed and what was not
// attempted. A dry run stops after the validation and changes nothing.
#pragma once

#include "upgrade.hpp"

#include <otpp/error.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace otpp::code {

enum class PurgePolicy { none, soft, brutal };

struct PlanStep {
    Atom module;
    std::filesystem::path file;
    UpgradeOptions options;
    std::vector<Atom> requires_modules;  // run after these steps
    PurgePolicy pre_purge = PurgePolicy::brutal;
    PurgePolicy post_purge = PurgePolicy::soft;
};

struct UpgradePlan {
    std::filesystem::path source;
    std::vector<PlanStep> steps;  // in the order they will run
};

// A plan file that cannot be used: the message starts with file:line:col.
class OTPP_API PlanError : public Error {
public:
    using Error::Error;
};

// Parses and orders a plan; throws PlanError.
OTPP_API UpgradePlan parse_plan(const std::filesystem::path& file);

struct OTPP_API UpgradePlanReport {
    bool ok = false;
    bool dry_run = false;
    std::string error;                   // why the plan stopped ("" if ok)
    std::vector<UpgradeReport> steps;    // the steps that ran (or were checked)
    std::vector<Atom> not_attempted;
    Term to_term() const;
    std::string to_text() const;
};

OTPP_API UpgradePlanReport run_plan(ModuleTable& modules, const UpgradePlan& plan, bool dry_run);
// Parses `file` first; a PlanError becomes the report's error.
OTPP_API UpgradePlanReport run_plan(ModuleTable& modules, const std::filesystem::path& file, bool dry_run);

}  // namespace otpp::code
