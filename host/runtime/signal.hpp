// Signals: everything one process tells another travels as a Signal through
// the receiver's inbox, so that all signals from one sender to one receiver
// arrive in the order they were sent — messages, exits, links and monitors
// alike (Erlang's signal-ordering guarantee; ERTS implements it the same way).
#pragma once

#include <otpp/term.hpp>

#include <cstdint>

namespace otpp::runtime {

enum class SignalKind : uint8_t {
    Message,      // payload = the message
    Exit,         // exit(Pid, Reason): payload = reason
    LinkExit,     // a linked process died: payload = reason
    Link,         // from wants a link
    Unlink,       // from removed its link
    Monitor,      // from monitors us under `ref`
    Demonitor,    // from dropped monitor `ref`
    Down,         // a monitored process died: {'DOWN', ref, process, from, payload}
    Timeout,      // a receive timeout fired (the signal is the TimerEntry itself)
    Reply,        // a reply to alias `ref`: becomes the message {Ref, payload}
                  // only while the receiver still waits for it (OTP's alias)
};

struct Signal {
    Signal* next = nullptr;  // inbox chain, then mailbox chain
    Signal* prev = nullptr;  // mailbox chain (selective receive removes from the middle)
    SignalKind kind = SignalKind::Message;
    Pid from;
    Ref ref;
    Term payload;

    Signal() = default;
    Signal(SignalKind k, Pid f, Term p = Term(), Ref r = Ref()) noexcept
        : kind(k), from(f), ref(r), payload(std::move(p)) {}
    virtual ~Signal() = default;  // timer entries extend Signal
};

}  // namespace otpp::runtime
