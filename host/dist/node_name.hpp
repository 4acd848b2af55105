// Node names, made and checked the way erl does (net_kernel:create_name/3).
//
//   --sname foo        -> foo@<short host name>   (the host name up to its first '.')
//   --sname foo@h      -> foo@h                   (h must not contain '.')
//   --name foo         -> foo@<host>.<domain>     (the fully qualified name; an
//                                                  error if the host has none)
//   --name foo@h.d     -> foo@h.d                 (erl also accepts foo@h)
//
// The part before '@' (erl calls it the name head, EPMD the alive name) is
// 1+ of [0-9A-Za-z_-]. The host part is printable ASCII without '@' (erl
// allows [!-ÿ]; we keep node names ASCII so that they are the same bytes in
// latin1 and UTF-8 atoms). A whole name is at most 255 bytes (an atom).
//
// Errors are NodeNameError exceptions whose message names the offending
// argument and says what is allowed.
#pragma once

#include <otpp/error.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace otpp::dist {

class NodeNameError : public otpp::Error {
public:
    explicit NodeNameError(std::string what);
};

enum class NameMode {
    shortnames,  // erl -sname
    longnames,   // erl -name
};

// This machine's names, as erl finds them: the short host name, and the fully
// qualified one if the system knows it.
struct HostNames {
    std::string short_name;                 // "vm" for "vm.example.org"
    std::optional<std::string> fqdn;        // "vm.example.org", if any

    // From gethostname(): if it has a '.', the short name is the part before
    // the first '.' and the FQDN the whole. Otherwise the FQDN is the
    // canonical name getaddrinfo gives it (AI_CANONNAME) if that is
    // "<hostname>.<something>", else hostname + "." + the `domain` (or first
    // `search`) of /etc/resolv.conf, else unknown. Blocks in the resolver (no deadline: /etc/hosts is
    // instant, DNS takes the resolver's own timeouts). Throws NodeNameError
    // if the host name cannot be read at all.
    static HostNames of_this_host();
};

struct NodeName {
    std::string alive;  // before '@' (what EPMD registers)
    std::string host;   // after '@'
    NameMode mode = NameMode::shortnames;

    std::string full() const { return alive + "@" + host; }
    friend bool operator==(const NodeName&, const NodeName&) = default;

    // `arg` as given to erl's -sname (shortnames) or -name (longnames), with
    // or without "@host"; a missing host comes from `host`. Never blocks.
    // Throws NodeNameError.
    static NodeName make(NameMode mode, std::string_view arg, const HostNames& host);
    // The same with this host's names (HostNames::of_this_host(), looked up
    // only when `arg` has no host: that may block in the resolver).
    static NodeName make(NameMode mode, std::string_view arg);

    // A command-line option: "--sname"/"-sname" or "--name"/"-name", and its
    // value. Throws NodeNameError for another option or a bad value. The
    // overload without `host` may block in the resolver, as make() does.
    static NodeName from_option(std::string_view option, std::string_view value);
    static NodeName from_option(std::string_view option, std::string_view value, const HostNames& host);

    // A complete remote node name "alive@host" (to connect to). The mode is
    // longnames if the host contains a '.', else shortnames. Never blocks.
    // Throws NodeNameError.
    static NodeName parse_full(std::string_view full);
};

// True if `alive` is a valid name head: 1+ of [0-9A-Za-z_-]. Never blocks.
bool is_valid_alive_name(std::string_view alive) noexcept;

}  // namespace otpp::dist
