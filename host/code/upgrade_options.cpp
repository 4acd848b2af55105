#include "upgrade_options.hpp"

#include <otpp/error.hpp>

#include <string>

namespace otpp::code {

UpgradeOptions upgrade_options_from_term(const Term& o) {
    UpgradeOptions options;
    if (!o.is_map()) throw BadArg("upgrade options: expected a map; got " + o.to_string(200));
    for (const MapEntry& e : o.entries()) {
        const std::string key = e.key.is_atom() ? std::string(e.key.get<Atom>().name()) : e.key.to_string(80);
        if (key == "mode") {
            if (e.value.is_atom(Atom("atomic"))) options.mode = UpgradeMode::atomic;
            else if (e.value.is_atom(Atom("rolling"))) options.mode = UpgradeMode::rolling;
            else throw BadArg("upgrade: mode must be atomic or rolling; got " + e.value.to_string(80));
        } else if (key == "extra") {
            options.extra = e.value;
        } else if (key == "dry_run") {
            auto b = e.value.try_get<bool>();
            if (!b) throw BadArg("upgrade: dry_run must be true or false");
            options.dry_run = *b;
        } else if (key == "timeout") {
            auto v = e.value.try_get<std::int64_t>();
            if (!v || *v < 1 || *v > 3'600'000) throw BadArg("upgrade: timeout must be 1..3600000 ms");
            options.suspend_timeout = std::chrono::milliseconds(*v);
        } else if (key == "unpurgeable") {
            auto b = e.value.try_get<bool>();
            if (!b) throw BadArg("upgrade: unpurgeable must be true or false");
            options.allow_unpurgeable = *b;
        } else if (key == "batch") {
            auto v = e.value.try_get<std::int64_t>();
            if (!v || *v < 1 || *v > 1'000'000) throw BadArg("upgrade: batch must be 1..1000000");
            options.batch = static_cast<std::size_t>(*v);
        } else {
            throw BadArg("upgrade: unknown option " + key);
        }
    }
    return options;
}

Term upgrade_options_to_term(const UpgradeOptions& o) {
    return Term::map({{Atom("mode"), Atom(o.mode == UpgradeMode::atomic ? "atomic" : "rolling")},
                      {Atom("extra"), o.extra},
                      {Atom("dry_run"), o.dry_run},
                      {Atom("timeout"), static_cast<std::int64_t>(o.suspend_timeout.count())},
                      {Atom("unpurgeable"), o.allow_unpurgeable},
                      {Atom("batch"), static_cast<std::int64_t>(o.batch)}});
}

}  // namespace otpp::code
