#include "code_agent.hpp"

#include "upgrade.hpp"
#include "upgrade_options.hpp"

#include <otpp/error.hpp>
#include <otpp/node.hpp>
#include <otpp/process.hpp>

#include <spdlog/spdlog.h>

#include <atomic>
#include <fstream>
#include <unistd.h>

namespace otpp::code {

namespace {

const Atom gen_call("$gen_call"), upgrade_atom("upgrade"), node_atom("node");

Term error(const std::string& why) { return Term::tuple({atoms::error, Term::binary(why)}); }

// A base name that cannot leave the directory.
std::string safe_base_name(std::string name) {
    std::string out;
    for (char c : name)
        if (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_') out += c;
    return out.empty() ? std::string("plugin.so") : out;
}

Term run(ModuleTable& modules, const Term& req) {
    if (!(req.is_tuple(5) && req[0].is_atom(upgrade_atom) && req[1].is_atom() && req[2].is_binary() &&
          req[3].is_binary()))
        return error("expected {upgrade, Module, FileName, Content, Options}");
    const Atom module = req[1].get<Atom>();
    UpgradeOptions options;
    try {
        options = upgrade_options_from_term(req[4]);
    } catch (const std::exception& e) {
        return error(e.what());
    }
    static std::atomic<unsigned> counter{0};
    std::filesystem::path dir = modules.private_dir() / "shipped";
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return error("cannot create " + dir.string() + ": " + ec.message());
    std::filesystem::path file = dir / (std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" +
                                        safe_base_name(req[2].get<std::string>()));
    {
        std::ofstream out(file, std::ios::binary);
        std::string_view bytes = req[3].get<std::string_view>();
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        if (!out) return error("cannot write " + file.string());
    }
    // The file must hold the module the sender meant (as the console checks).
    UpgradeOptions probe = options;
    probe.dry_run = true;
    UpgradeReport dry = upgrade(modules, file, probe);
    UpgradeReport report = dry;
    if (dry.outcome != UpgradeReport::Outcome::refused && dry.module != module) {
        std::filesystem::remove(file, ec);
        return error(file.string() + " holds module " + std::string(dry.module.name()) + ", not " +
                     std::string(module.name()) + "; nothing changed");
    }
    if (dry.outcome != UpgradeReport::Outcome::refused && !options.dry_run) report = upgrade(modules, file, options);
    // Kept only while it is the file of a loaded version (which names it);
    // the private directory's next claim deletes the rest.
    if (report.outcome != UpgradeReport::Outcome::upgraded && report.outcome != UpgradeReport::Outcome::partial)
        std::filesystem::remove(file, ec);
    std::vector<std::pair<Term, Term>> fields;
    Term t = report.to_term();
    for (const MapEntry& e : t.entries()) fields.emplace_back(e.key, e.value);
    fields.emplace_back(node_atom, otpp::node());
    return Term::map(std::move(fields));
}

}  // namespace

Pid start_code_agent(ModuleTable& modules) {
    Pid p = spawn(
        [&modules] {
            for (;;) {
                Term m = receive();
                if (!(m.is_tuple(3) && m[0].is_atom(gen_call) && m[1].is_tuple(2) && m[1][0].is_pid())) continue;
                Term answer;
                try {
                    answer = run(modules, m[2]);
                } catch (const ProcessExit&) {
                    throw;
                } catch (const std::exception& e) {
                    answer = error(e.what());
                }
                spdlog::info("code: upgrade shipped by {}: {}", to_string(m[1][0].get<Pid>()), answer.to_string(300));
                send(m[1][0].get<Pid>(), Term::tuple({m[1][1], std::move(answer)}));
            }
        },
        SpawnOptions{.stack_size = 256 * 1024, .label = "otpp_code"});
    register_name(Atom(code_agent_name), p);
    return p;
}

}  // namespace otpp::code
