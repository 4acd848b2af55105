#include "upgrade_plan.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

namespace otpp::code {

namespace fs = std::filesystem;

namespace {

// Reads one plan file, reporting every problem as file:line:col: key: what.
class PlanReader {
public:
    explicit PlanReader(fs::path file) : file_(std::move(file)) {}

    UpgradePlan read() {
        std::ifstream in(file_, std::ios::binary);
        if (!in) throw PlanError(file_.string() + ": cannot read the plan file");
        std::stringstream text;
        text << in.rdbuf();
        toml::table root;
        try {
            root = toml::parse(text.str(), file_.string());
        } catch (const toml::parse_error& e) {
            throw PlanError(where(e.source()) + "invalid TOML: " + std::string(e.description()));
        }
        check_keys(root, "", {"mode", "suspend_timeout_ms", "batch", "pre_purge", "post_purge", "upgrade"});
        PlanStep defaults;
        read_step_options(root, "", defaults);
        defaults.pre_purge = purge_policy(root, "pre_purge", PurgePolicy::brutal, false);
        defaults.post_purge = purge_policy(root, "post_purge", PurgePolicy::soft, true);

        UpgradePlan plan;
        plan.source = file_;
        auto* steps = root["upgrade"].as_array();
        if (!steps || steps->empty()) fail(root.source(), "upgrade", "the plan has no [[upgrade]] step");
        std::map<uint32_t, std::size_t> index;
        for (std::size_t i = 0; i < steps->size(); ++i) {
            auto* t = (*steps)[i].as_table();
            std::string key = "upgrade[" + std::to_string(i) + "]";
            if (!t) fail((*steps)[i].source(), key, "expected a table");
            check_keys(*t, key + ".", {"module", "file", "from", "extra", "requires", "mode", "batch",
                                       "suspend_timeout_ms", "direction"});
            PlanStep step = defaults;
            step.module = atom(*t, key + ".module", required_string(*t, "module", key));
            fs::path file = required_string(*t, "file", key);
            step.file = file.is_absolute() ? file : file_.parent_path() / file;
            if (auto* from = t->get("from")) {
                for (auto& v : strings(*from, key + ".from")) step.options.allowed_from.push_back(v);
            }
            if (auto* extra = t->get("extra")) {
                auto text_value = extra->value<std::string>();
                if (!text_value) fail(extra->source(), key + ".extra", "expected a term in a string");
                try {
                    step.options.extra = Term::parse(*text_value);
                } catch (const std::exception& e) {
                    fail(extra->source(), key + ".extra", e.what());
                }
            }
            if (auto* req = t->get("requires"))
                for (auto& v : strings(*req, key + ".requires")) step.requires_modules.push_back(atom(*t, key, v));
            read_step_options(*t, key + ".", step);
            if (index.count(step.module.index()))
                fail(t->source(), key + ".module", "module " + std::string(step.module.name()) + " appears twice");
            index[step.module.index()] = plan.steps.size();
            plan.steps.push_back(std::move(step));
            sources_.push_back(t->source());
        }
        plan.steps = ordered(std::move(plan.steps));
        return plan;
    }

private:
    [[noreturn]] void fail(const toml::source_region& at, const std::string& key, const std::string& what) {
        throw PlanError(where(at) + key + ": " + what);
    }
    std::string where(const toml::source_region& at) {
        std::string out = file_.string();
        if (at.begin.line) out += ":" + std::to_string(at.begin.line) + ":" + std::to_string(at.begin.column);
        return out + ": ";
    }

    void check_keys(const toml::table& t, const std::string& prefix, std::set<std::string> known) {
        for (auto& [k, v] : t)
            if (!known.count(std::string(k.str()))) fail(v.source(), prefix + std::string(k.str()), "unknown key");
    }

    std::string required_string(const toml::table& t, const char* name, const std::string& key) {
        auto* node = t.get(name);
        if (!node) fail(t.source(), key + "." + name, "missing");
        auto v = node->value<std::string>();
        if (!v || v->empty()) fail(node->source(), key + "." + name, "expected a non-empty string");
        return *v;
    }

    Atom atom(const toml::table& t, const std::string& key, const std::string& name) {
        if (!is_module_name(name)) fail(t.source(), key, "\"" + name + "\" is not a module name");
        return Atom(name);
    }

    std::vector<std::string> strings(const toml::node& node, const std::string& key) {
        auto* array = node.as_array();
        if (!array) fail(node.source(), key, "expected an array of strings");
        std::vector<std::string> out;
        for (auto& v : *array) {
            auto s = v.value<std::string>();
            if (!s) fail(v.source(), key, "expected an array of strings");
            out.push_back(*s);
        }
        return out;
    }

    void read_step_options(const toml::table& t, const std::string& prefix, PlanStep& step) {
        if (auto* mode = t.get("mode")) {
            auto v = mode->value<std::string>();
            if (v == "atomic") step.options.mode = UpgradeMode::atomic;
            else if (v == "rolling") step.options.mode = UpgradeMode::rolling;
            else fail(mode->source(), prefix + "mode", "expected \"atomic\" or \"rolling\"");
        }
        if (auto* ms = t.get("suspend_timeout_ms")) {
            auto v = ms->value<int64_t>();
            if (!v || *v <= 0 || *v > 3'600'000) fail(ms->source(), prefix + "suspend_timeout_ms", "expected 1..3600000");
            step.options.suspend_timeout = std::chrono::milliseconds(*v);
        }
        if (auto* batch = t.get("batch")) {
            auto v = batch->value<int64_t>();
            if (!v || *v <= 0 || *v > 1'000'000) fail(batch->source(), prefix + "batch", "expected 1..1000000");
            step.options.batch = static_cast<std::size_t>(*v);
        }
        if (auto* dir = t.get("direction")) {
            auto v = dir->value<std::string>();
            if (v == "up") step.options.direction = UpgradeDirection::up;
            else if (v == "down") step.options.direction = UpgradeDirection::down;
            else if (v == "automatic") step.options.direction = UpgradeDirection::automatic;
            else fail(dir->source(), prefix + "direction", "expected \"up\", \"down\" or \"automatic\"");
        }
    }

    PurgePolicy purge_policy(const toml::table& t, const char* key, PurgePolicy fallback, bool allow_none) {
        auto* node = t.get(key);
        if (!node) return fallback;
        auto v = node->value<std::string>();
        if (v == "soft") return PurgePolicy::soft;
        if (v == "brutal") return PurgePolicy::brutal;
        if (allow_none && v == "none") return PurgePolicy::none;
        fail(node->source(), key, allow_none ? "expected \"soft\", \"brutal\" or \"none\"" : "expected \"soft\" or \"brutal\"");
    }

    // Steps after the steps they require (stable: otherwise in file order).
    std::vector<PlanStep> ordered(std::vector<PlanStep> steps) {
        std::map<uint32_t, std::size_t> index;
        for (std::size_t i = 0; i < steps.size(); ++i) index[steps[i].module.index()] = i;
        std::vector<int> state(steps.size(), 0);  // 0 new, 1 visiting, 2 done
        std::vector<PlanStep> out;
        std::function<void(std::size_t, std::vector<std::string>&)> visit = [&](std::size_t i, std::vector<std::string>& path) {
            if (state[i] == 2) return;
            path.push_back(std::string(steps[i].module.name()));
            if (state[i] == 1) {
                std::string cycle;
                for (auto& p : path) cycle += (cycle.empty() ? "" : " -> ") + p;
                fail(sources_[i], "upgrade.requires", "a cycle: " + cycle);
            }
            state[i] = 1;
            for (Atom r : steps[i].requires_modules) {
                auto it = index.find(r.index());
                // A module the plan does not upgrade is simply required to be loaded.
                if (it != index.end()) visit(it->second, path);
            }
            state[i] = 2;
            path.pop_back();
            out.push_back(steps[i]);
        };
        for (std::size_t i = 0; i < steps.size(); ++i) {
            std::vector<std::string> path;
            visit(i, path);
        }
        return out;
    }

    fs::path file_;
    std::vector<toml::source_region> sources_;
};

}  // namespace

UpgradePlan parse_plan(const fs::path& file) { return PlanReader(file).read(); }

UpgradePlanReport run_plan(ModuleTable& modules, const UpgradePlan& plan, bool dry_run) {
    UpgradePlanReport report;
    report.dry_run = dry_run;
    auto stop = [&](std::size_t failed_step, std::string why) {
        report.error = std::move(why);
        for (std::size_t j = failed_step + 1; j < plan.steps.size(); ++j)
            report.not_attempted.push_back(plan.steps[j].module);
        return report;
    };
    // 1. Validate every step against the running system; nothing changes.
    std::vector<UpgradeReport> checks;
    for (std::size_t i = 0; i < plan.steps.size(); ++i) {
        const PlanStep& step = plan.steps[i];
        UpgradeOptions options = step.options;
        options.dry_run = true;
        UpgradeReport check = upgrade(modules, step.file, options);
        std::string problem;
        if (check.outcome != UpgradeReport::Outcome::dry_run) problem = check.error;
        else if (check.module != step.module)
            problem = step.file.string() + " holds module " + std::string(check.module.name()) + ", not " +
                      std::string(step.module.name());
        else if (step.pre_purge == PurgePolicy::soft && !check.purged_before.killed.empty())
            problem = "pre_purge = \"soft\": " + std::to_string(check.purged_before.killed.size()) +
                      " processes still run " + std::string(step.module.name()) + "@" + check.purged_before.version;
        for (Atom r : step.requires_modules) {
            bool in_plan = std::any_of(plan.steps.begin(), plan.steps.end(), [&](auto& s) { return s.module == r; });
            if (!in_plan && !modules.is_loaded(r))
                problem = "requires module " + std::string(r.name()) + ", which is neither loaded nor in the plan";
        }
        checks.push_back(std::move(check));
        if (!problem.empty()) {
            report.steps = std::move(checks);
            for (std::size_t j = i + 1; j < plan.steps.size(); ++j) report.not_attempted.push_back(plan.steps[j].module);
            report.error = "step " + std::to_string(i + 1) + " (" + std::string(step.module.name()) + "): " + problem;
            return report;
        }
    }
    if (dry_run) {
        report.steps = std::move(checks);
        report.ok = true;
        return report;
    }
    // 2. Run them in order; stop at the first that does not fully upgrade.
    for (std::size_t i = 0; i < plan.steps.size(); ++i) {
        const PlanStep& step = plan.steps[i];
        UpgradeOptions options = step.options;
        options.soft_purge_after = step.post_purge == PurgePolicy::soft;
        report.steps.push_back(upgrade(modules, step.file, options));
        UpgradeReport& done = report.steps.back();
        if (done.outcome != UpgradeReport::Outcome::upgraded)
            return stop(i, "step " + std::to_string(i + 1) + " (" + std::string(step.module.name()) + ") " +
                               to_string(done.outcome) + (done.error.empty() ? "" : ": " + done.error));
        if (step.post_purge == PurgePolicy::brutal && modules.old(step.module))
            done.purged_after = modules.purge(step.module);
    }
    report.ok = true;
    return report;
}

UpgradePlanReport run_plan(ModuleTable& modules, const fs::path& file, bool dry_run) {
    try {
        return run_plan(modules, parse_plan(file), dry_run);
    } catch (const PlanError& e) {
        UpgradePlanReport report;
        report.dry_run = dry_run;
        report.error = e.what();
        return report;
    }
}

Term UpgradePlanReport::to_term() const {
    std::vector<Term> step_terms;
    for (auto& s : steps) step_terms.push_back(s.to_term());
    std::vector<Term> skipped(not_attempted.begin(), not_attempted.end());
    return Term::map({{Atom("ok"), ok},
                      {Atom("dry_run"), dry_run},
                      {Atom("error"), Term::binary(error)},
                      {Atom("steps"), Term::list(std::move(step_terms))},
                      {Atom("not_attempted"), Term::list(std::move(skipped))}});
}

std::string UpgradePlanReport::to_text() const {
    std::string out = std::string(dry_run ? "plan check: " : "plan: ") + (ok ? "ok" : "FAILED") + "\n";
    if (!error.empty()) out += "  " + error + "\n";
    for (std::size_t i = 0; i < steps.size(); ++i) {
        out += "step " + std::to_string(i + 1) + ": " + steps[i].to_text();
    }
    for (Atom m : not_attempted) out += "not attempted: " + std::string(m.name()) + "\n";
    return out;
}

}  // namespace otpp::code
