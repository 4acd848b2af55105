#include "node_name.hpp"

#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>
#include <netdb.h>
#include <sstream>
#include <unistd.h>

namespace otpp::dist {

NodeNameError::NodeNameError(std::string what) : otpp::Error(std::move(what)) {}

namespace {

constexpr std::size_t max_name_bytes = 255;  // an atom

bool alive_char(char c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == '-';
}

// Printable ASCII, no '@'.
std::optional<char> bad_host_char(std::string_view host) {
    for (char c : host)
        if (c < '!' || c > '~' || c == '@') return c;
    return std::nullopt;
}

std::string show_char(char c) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x21 && u <= 0x7e) return std::string("'") + c + "'";
    static constexpr char hex[] = "0123456789abcdef";
    return std::string("byte 0x") + hex[u >> 4] + hex[u & 0xf];
}

const char* option_of(NameMode mode) { return mode == NameMode::shortnames ? "--sname" : "--name"; }

void check_alive(std::string_view alive, NameMode mode, std::string_view arg) {
    if (alive.empty())
        throw NodeNameError(std::string("invalid node name for ") + option_of(mode) + " '" + std::string(arg) +
                            "': the name before '@' is empty");
    for (char c : alive)
        if (!alive_char(c))
            throw NodeNameError(std::string("invalid node name for ") + option_of(mode) + " '" + std::string(arg) +
                                "': " + show_char(c) +
                                " is not allowed before '@' (letters, digits, '_' and '-' only)");
}

void check_host(std::string_view host, NameMode mode, std::string_view arg) {
    if (auto c = bad_host_char(host))
        throw NodeNameError(std::string("invalid node name for ") + option_of(mode) + " '" + std::string(arg) +
                            "': " + show_char(*c) + " is not allowed in the host part (printable ASCII except '@')");
    if (mode == NameMode::shortnames && host.find('.') != std::string_view::npos)
        throw NodeNameError("invalid node name for --sname '" + std::string(arg) + "': the host '" +
                            std::string(host) +
                            "' contains '.', which a short name cannot (use --name for a fully qualified host)");
}

std::optional<std::string> resolv_conf_domain() {
    std::ifstream in("/etc/resolv.conf");
    std::string line;
    std::optional<std::string> search;
    while (std::getline(in, line)) {
        std::istringstream ls(line);
        std::string key, value;
        ls >> key >> value;
        if (value.empty()) continue;
        if (key == "domain") return value;
        if (key == "search" && !search) search = value;
    }
    return search;
}

}  // namespace

bool is_valid_alive_name(std::string_view alive) noexcept {
    if (alive.empty()) return false;
    for (char c : alive)
        if (!alive_char(c)) return false;
    return true;
}

HostNames HostNames::of_this_host() {
    char buf[HOST_NAME_MAX + 1] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0)
        throw NodeNameError(std::string("cannot read this host's name (gethostname): ") + std::strerror(errno));
    std::string name = buf;
    if (name.empty()) throw NodeNameError("this host has an empty host name (gethostname)");
    HostNames out;
    if (auto dot = name.find('.'); dot != std::string::npos) {
        out.short_name = name.substr(0, dot);
        out.fqdn = name;
        return out;
    }
    out.short_name = name;
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_flags = AI_CANONNAME;
    addrinfo* res = nullptr;
    if (::getaddrinfo(name.c_str(), nullptr, &hints, &res) == 0 && res) {
        if (res->ai_canonname) {
            std::string canon = res->ai_canonname;
            // Only a canonical name of this host counts ("vm.example.org" for
            // "vm"), not an alias line such as "127.0.0.1 localhost vm".
            if (canon.find('.') != std::string::npos && canon.compare(0, name.size() + 1, name + ".") == 0)
                out.fqdn = canon;
        }
        ::freeaddrinfo(res);
    }
    if (!out.fqdn)
        if (auto domain = resolv_conf_domain()) out.fqdn = name + "." + *domain;
    return out;
}

NodeName NodeName::make(NameMode mode, std::string_view arg, const HostNames& host) {
    auto at = arg.find('@');
    std::string_view alive = arg.substr(0, at);
    std::string_view given_host = at == std::string_view::npos ? std::string_view{} : arg.substr(at + 1);
    check_alive(alive, mode, arg);
    NodeName out;
    out.alive = std::string(alive);
    out.mode = mode;
    if (!given_host.empty()) {
        check_host(given_host, mode, arg);
        out.host = std::string(given_host);
    } else if (mode == NameMode::shortnames) {
        if (host.short_name.empty())
            throw NodeNameError("cannot make a short node name from '" + std::string(arg) +
                                "': this host's name is unknown; give --sname " + std::string(alive) + "@HOST");
        check_host(host.short_name, mode, arg);
        out.host = host.short_name;
    } else {
        if (!host.fqdn)
            throw NodeNameError("cannot make a long node name from '" + std::string(arg) + "': this host ('" +
                                host.short_name +
                                "') has no fully qualified name (no domain in its name, its canonical name or "
                                "/etc/resolv.conf); give --name " +
                                std::string(alive) + "@HOST.DOMAIN or " + std::string(alive) + "@IP");
        check_host(*host.fqdn, mode, arg);
        out.host = *host.fqdn;
    }
    if (out.full().size() > max_name_bytes)
        throw NodeNameError("node name '" + out.full() + "' is longer than " + std::to_string(max_name_bytes) +
                            " bytes");
    return out;
}

NodeName NodeName::make(NameMode mode, std::string_view arg) {
    // Only look the host up when the argument does not name it.
    auto at = arg.find('@');
    if (at != std::string_view::npos && at + 1 < arg.size()) return make(mode, arg, HostNames{});
    return make(mode, arg, HostNames::of_this_host());
}

namespace {
std::optional<NameMode> mode_of_option(std::string_view option) {
    if (option == "--sname" || option == "-sname") return NameMode::shortnames;
    if (option == "--name" || option == "-name") return NameMode::longnames;
    return std::nullopt;
}
}  // namespace

NodeName NodeName::from_option(std::string_view option, std::string_view value) {
    auto mode = mode_of_option(option);
    if (!mode) throw NodeNameError("unknown node name option '" + std::string(option) + "' (use --sname or --name)");
    return make(*mode, value);
}

NodeName NodeName::from_option(std::string_view option, std::string_view value, const HostNames& host) {
    auto mode = mode_of_option(option);
    if (!mode) throw NodeNameError("unknown node name option '" + std::string(option) + "' (use --sname or --name)");
    return make(*mode, value, host);
}

NodeName NodeName::parse_full(std::string_view full) {
    auto at = full.find('@');
    if (at == std::string_view::npos || at == 0 || at + 1 == full.size())
        throw NodeNameError("'" + std::string(full) + "' is not a node name (expected name@host)");
    std::string_view alive = full.substr(0, at), host = full.substr(at + 1);
    if (!is_valid_alive_name(alive))
        throw NodeNameError("'" + std::string(full) +
                            "' is not a valid node name: letters, digits, '_' and '-' only before '@'");
    if (auto c = bad_host_char(host))
        throw NodeNameError("'" + std::string(full) + "' is not a valid node name: " + show_char(*c) +
                            " is not allowed in the host part");
    if (full.size() > max_name_bytes)
        throw NodeNameError("node name '" + std::string(full) + "' is longer than " + std::to_string(max_name_bytes) +
                            " bytes");
    NodeName out;
    out.alive = std::string(alive);
    out.host = std::string(host);
    out.mode = host.find('.') != std::string_view::npos ? NameMode::longnames : NameMode::shortnames;
    return out;
}

}  // namespace otpp::dist
