// Distribution capability flags (DFLAG_*), exchanged in the handshake.
//
// Values from OTP's erts/emulator/beam/dist.h and lib/kernel/include/dist.hrl
// (checked against Debian's OTP 25.2.3 dist.hrl). The flags a connection
// uses are the intersection of what both nodes advertise (dist_util's
// adjust_flags); a connection is published (visible) only if both sides set
// DFLAG_PUBLISHED, otherwise it is hidden.
//
// Note: erl_dist_protocol.md gives DFLAG_MANDATORY_25_DIGEST as (1 bsl 36);
// the code (dist.h, dist.hrl) uses 16#04000000 (bit 26), which is what nodes
// actually send. We use the code's value.
#pragma once

#include <cstdint>
#include <string>

namespace otpp::dist {

inline constexpr std::uint64_t DFLAG_PUBLISHED = 0x01;
inline constexpr std::uint64_t DFLAG_ATOM_CACHE = 0x02;  // obsolete
inline constexpr std::uint64_t DFLAG_EXTENDED_REFERENCES = 0x04;
inline constexpr std::uint64_t DFLAG_DIST_MONITOR = 0x08;
inline constexpr std::uint64_t DFLAG_FUN_TAGS = 0x10;
inline constexpr std::uint64_t DFLAG_DIST_MONITOR_NAME = 0x20;
inline constexpr std::uint64_t DFLAG_HIDDEN_ATOM_CACHE = 0x40;  // obsolete
inline constexpr std::uint64_t DFLAG_NEW_FUN_TAGS = 0x80;
inline constexpr std::uint64_t DFLAG_EXTENDED_PIDS_PORTS = 0x100;
inline constexpr std::uint64_t DFLAG_EXPORT_PTR_TAG = 0x200;
inline constexpr std::uint64_t DFLAG_BIT_BINARIES = 0x400;
inline constexpr std::uint64_t DFLAG_NEW_FLOATS = 0x800;
inline constexpr std::uint64_t DFLAG_UNICODE_IO = 0x1000;
inline constexpr std::uint64_t DFLAG_DIST_HDR_ATOM_CACHE = 0x2000;
inline constexpr std::uint64_t DFLAG_SMALL_ATOM_TAGS = 0x4000;
inline constexpr std::uint64_t DFLAG_ETS_COMPRESSED = 0x8000;  // internal to the BEAM, never sent
inline constexpr std::uint64_t DFLAG_UTF8_ATOMS = 0x10000;
inline constexpr std::uint64_t DFLAG_MAP_TAG = 0x20000;
inline constexpr std::uint64_t DFLAG_BIG_CREATION = 0x40000;
inline constexpr std::uint64_t DFLAG_SEND_SENDER = 0x80000;
inline constexpr std::uint64_t DFLAG_BIG_SEQTRACE_LABELS = 0x100000;
inline constexpr std::uint64_t DFLAG_PENDING_CONNECT = 0x200000;  // internal to the BEAM, never sent
inline constexpr std::uint64_t DFLAG_EXIT_PAYLOAD = 0x400000;
inline constexpr std::uint64_t DFLAG_FRAGMENTS = 0x800000;
inline constexpr std::uint64_t DFLAG_HANDSHAKE_23 = 0x1000000;
inline constexpr std::uint64_t DFLAG_UNLINK_ID = 0x2000000;
inline constexpr std::uint64_t DFLAG_MANDATORY_25_DIGEST = 0x4000000;
inline constexpr std::uint64_t DFLAG_RESERVED = 0xf8000000;
inline constexpr std::uint64_t DFLAG_SPAWN = std::uint64_t{0x01} << 32;
inline constexpr std::uint64_t DFLAG_NAME_ME = std::uint64_t{0x02} << 32;
inline constexpr std::uint64_t DFLAG_V4_NC = std::uint64_t{0x04} << 32;
inline constexpr std::uint64_t DFLAG_ALIAS = std::uint64_t{0x08} << 32;
inline constexpr std::uint64_t DFLAG_LOCAL_EXT = std::uint64_t{0x10} << 32;  // internal to the BEAM, never sent
inline constexpr std::uint64_t DFLAG_ALTACT_SIG = std::uint64_t{0x20} << 32;  // OTP 28

// Mandatory since OTP 25 (dist.h DFLAG_DIST_MANDATORY_25, dist.hrl
// MANDATORY_DFLAGS_25). A peer may send DFLAG_MANDATORY_25_DIGEST instead of
// these bits; expand_mandatory_25() turns the digest into the bits.
inline constexpr std::uint64_t DFLAGS_MANDATORY_25 =
    DFLAG_EXTENDED_REFERENCES | DFLAG_FUN_TAGS | DFLAG_EXTENDED_PIDS_PORTS | DFLAG_UTF8_ATOMS |
    DFLAG_NEW_FUN_TAGS | DFLAG_BIG_CREATION | DFLAG_NEW_FLOATS | DFLAG_MAP_TAG | DFLAG_EXPORT_PTR_TAG |
    DFLAG_BIT_BINARIES | DFLAG_HANDSHAKE_23;

// Mandatory since OTP 26 (dist.h DFLAG_DIST_MANDATORY_26). OTP 25 nodes set
// both anyway.
inline constexpr std::uint64_t DFLAGS_MANDATORY_26 = DFLAG_V4_NC | DFLAG_UNLINK_ID;

// What we require of a peer (the handshake refuses a peer lacking any of
// these): OTP 26's mandatory set, which every OTP 25-27 node sends.
inline constexpr std::uint64_t DFLAGS_REQUIRED = DFLAGS_MANDATORY_25 | DFLAGS_MANDATORY_26;

// What an otpp node advertises: the required set, plus monitors, spawn,
// aliases, fragments and PUBLISHED. Not DIST_HDR_ATOM_CACHE: messages then
// travel with the pass-through header (112, 'p'). Not SEND_SENDER,
// EXIT_PAYLOAD, BIG_SEQTRACE_LABELS, SMALL_ATOM_TAGS, UNICODE_IO (not
// implemented; a BEAM peer falls back to the older control messages).
inline constexpr std::uint64_t DFLAGS_ADVERTISED = DFLAGS_REQUIRED | DFLAG_DIST_MONITOR | DFLAG_DIST_MONITOR_NAME |
                                                   DFLAG_SPAWN | DFLAG_ALIAS | DFLAG_FRAGMENTS | DFLAG_PUBLISHED;

// The same, for a hidden connection (erl -hidden): without PUBLISHED.
inline constexpr std::uint64_t DFLAGS_ADVERTISED_HIDDEN = DFLAGS_ADVERTISED & ~DFLAG_PUBLISHED;

// A peer's flags with DFLAG_MANDATORY_25_DIGEST replaced by the bits it
// stands for (dist_util:expand_mandatory_25_flag/1).
constexpr std::uint64_t expand_mandatory_25(std::uint64_t flags) noexcept {
    return (flags & DFLAG_MANDATORY_25_DIGEST) ? (flags | DFLAGS_MANDATORY_25) : flags;
}

// "UNLINK_ID, V4_NC": the names of the set bits, lowest first, as
// dist_util:dflag2str/1 spells them; unknown bits as UNKNOWN<hex>.
inline std::string flag_names(std::uint64_t flags) {
    static constexpr struct {
        std::uint64_t bit;
        const char* name;
    } table[] = {
        {DFLAG_PUBLISHED, "PUBLISHED"},
        {DFLAG_ATOM_CACHE, "ATOM_CACHE"},
        {DFLAG_EXTENDED_REFERENCES, "EXTENDED_REFERENCES"},
        {DFLAG_DIST_MONITOR, "DIST_MONITOR"},
        {DFLAG_FUN_TAGS, "FUN_TAGS"},
        {DFLAG_DIST_MONITOR_NAME, "DIST_MONITOR_NAME"},
        {DFLAG_HIDDEN_ATOM_CACHE, "HIDDEN_ATOM_CACHE"},
        {DFLAG_NEW_FUN_TAGS, "NEW_FUN_TAGS"},
        {DFLAG_EXTENDED_PIDS_PORTS, "EXTENDED_PIDS_PORTS"},
        {DFLAG_EXPORT_PTR_TAG, "EXPORT_PTR_TAG"},
        {DFLAG_BIT_BINARIES, "BIT_BINARIES"},
        {DFLAG_NEW_FLOATS, "NEW_FLOATS"},
        {DFLAG_UNICODE_IO, "UNICODE_IO"},
        {DFLAG_DIST_HDR_ATOM_CACHE, "DIST_HDR_ATOM_CACHE"},
        {DFLAG_SMALL_ATOM_TAGS, "SMALL_ATOM_TAGS"},
        {DFLAG_ETS_COMPRESSED, "ETS_COMPRESSED"},
        {DFLAG_UTF8_ATOMS, "UTF8_ATOMS"},
        {DFLAG_MAP_TAG, "MAP_TAG"},
        {DFLAG_BIG_CREATION, "BIG_CREATION"},
        {DFLAG_SEND_SENDER, "SEND_SENDER"},
        {DFLAG_BIG_SEQTRACE_LABELS, "BIG_SEQTRACE_LABELS"},
        {DFLAG_PENDING_CONNECT, "PENDING_CONNECT"},
        {DFLAG_EXIT_PAYLOAD, "EXIT_PAYLOAD"},
        {DFLAG_FRAGMENTS, "FRAGMENTS"},
        {DFLAG_HANDSHAKE_23, "HANDSHAKE_23"},
        {DFLAG_UNLINK_ID, "UNLINK_ID"},
        {DFLAG_MANDATORY_25_DIGEST, "MANDATORY_25_DIGEST"},
        {DFLAG_SPAWN, "SPAWN"},
        {DFLAG_NAME_ME, "NAME_ME"},
        {DFLAG_V4_NC, "V4_NC"},
        {DFLAG_ALIAS, "ALIAS"},
        {DFLAG_LOCAL_EXT, "LOCAL_EXT"},
        {DFLAG_ALTACT_SIG, "ALTACT_SIG"},
    };
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (int i = 0; i < 64; ++i) {
        const std::uint64_t bit = std::uint64_t{1} << i;
        if (!(flags & bit)) continue;
        if (!out.empty()) out += ", ";
        const char* name = nullptr;
        for (const auto& e : table)
            if (e.bit == bit) name = e.name;
        if (name) {
            out += name;
        } else {
            std::string digits;
            for (std::uint64_t v = bit; v; v >>= 4) digits.insert(digits.begin(), hex[v & 0xf]);
            out += "UNKNOWN<" + digits + ">";
        }
    }
    return out;
}

}  // namespace otpp::dist
