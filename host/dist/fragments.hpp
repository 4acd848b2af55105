// Fragmented messages (DFLAG_FRAGMENTS): a big message travels as several
// packets so that it does not hold the connection while small ones wait.
//
//   first:        131, 69, SequenceId:64, FragmentId:64, atom cache refs, data
//   continuation: 131, 70, SequenceId:64, FragmentId:64, data
//
// FragmentId counts down to 1 (the first fragment's id is their number);
// the data, concatenated, is the control message and payload without version
// bytes. Fragments of different messages interleave; those of one message
// arrive in order (one connection, one sender).
#pragma once

#include "control_message.hpp"
#include "dist_header.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace otpp::dist {

inline constexpr std::size_t fragment_size = 64 * 1024;  // data bytes per fragment

// One message being sent in fragments.
class FragmentWriter {
public:
    FragmentWriter(EncodedMessage message, std::uint64_t sequence);
    bool done() const noexcept { return offset_ >= message_.body.size(); }
    bool started() const noexcept { return offset_ > 0; }
    std::size_t remaining() const noexcept { return message_.body.size() - offset_; }  // body bytes
    // Appends the next fragment, with its 4-byte length, to `out`.
    void next(std::string& out);

private:
    EncodedMessage message_;
    std::uint64_t sequence_;
    std::uint64_t fragment_id_;  // of the next fragment
    std::size_t offset_ = 0;
};

// The receiving side: collects fragments until a message is whole.
// Not thread-safe (the connection's reader owns it).
class Reassembler {
public:
    // A message made whole: its body and the atoms its header referenced.
    struct Whole {
        std::string body;
        std::vector<Atom> atom_refs;
    };
    // True if `packet` is a fragment (header 131, 69 or 70). Then `whole`
    // receives the message when this fragment completes it. Throws
    // std::runtime_error for a malformed fragment or one out of order.
    bool take(std::string_view packet, AtomCache& cache, std::optional<Whole>& whole);
    std::size_t pending() const noexcept { return partial_.size(); }

private:
    struct Partial {
        std::uint64_t expect;  // the FragmentId of the next fragment
        Whole message;
    };
    std::unordered_map<std::uint64_t, Partial> partial_;  // by SequenceId
};

}  // namespace otpp::dist
