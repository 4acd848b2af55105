// chat: the cluster chat of seed 002. Every user is a process registered
// globally under the user's name, so a message finds its user on whichever
// node the user joined; the name goes when the user leaves, when its process
// dies, or when its node goes down.
//
// One chat server runs on every node (registered locally as `chat`):
//   call {join, User}                 -> ok | {error, taken}
//   call {leave, User}                -> ok | {error, not_here}  (only on the user's node)
//   call {say, From, To, Text}        -> ok | {error, no_such_user}
//   call {broadcast, From, Text}      -> {ok, Nodes}: every chat server delivers to its users
//   call {inbox, User}                -> [{From, Text}, ...] oldest first (the user may be anywhere)
//   call who                          -> [User, ...] everyone online, cluster-wide, sorted
//   cast {deliver_local, From, Text}  -- from another chat server's broadcast
// Users, senders and texts are binaries (names become atoms for the registry).
#include <otpp/gen_server.hpp>
#include <otpp/node.hpp>

#include <map>
#include <string>
#include <vector>

using namespace otpp;

namespace {

const Atom join{"join"}, leave{"leave"}, say{"say"}, broadcast{"broadcast"}, inbox{"inbox"}, who{"who"},
    deliver_local{"deliver_local"}, chat_msg{"chat"}, inbox_reply{"inbox_reply"}, taken{"taken"},
    not_here{"not_here"}, no_such_user{"no_such_user"}, bad_request{"bad_request"}, chat_name{"chat"};

Term error(Atom why) { return Term::tuple({atoms::error, why}); }

// A user: keeps what it was sent; answers {inbox, ReplyTo, Ref}.
void user_loop() {
    std::vector<Term> received;
    for (;;) {
        Term m = receive();
        if (m.is_tuple(3) && m[0].is_atom(chat_msg)) received.push_back(Term::tuple({m[1], m[2]}));
        else if (m.is_tuple(3) && m[0].is_atom(inbox) && m[1].is_pid())
            send(m[1].get<Pid>(), Term::tuple({inbox_reply, m[2], Term::list(received)}));
    }
}

struct Chat {
    struct State {
        std::map<std::string, Pid> users;  // the users who joined here
        OTPP_TERM_FIELDS(users)
    };

    static gen_server::Init<State> init(const Term&) {
        trap_exit(true);  // a user that dies is an 'EXIT' here, not our end
        return State{};
    }

    static gen_server::CallReply handle_call(const Term& r, const gen_server::From&, State& s) {
        if (r.is_tuple(2) && r[0].is_atom(join)) {
            std::string user = r[1].get<std::string>();
            Pid p = spawn_link(user_loop);
            if (!register_global(Atom(user), p)) {
                unlink(p);
                exit(p, atoms::kill);
                return gen_server::reply(error(taken));
            }
            s.users[user] = p;
            return gen_server::reply(atoms::ok);
        }
        if (r.is_tuple(2) && r[0].is_atom(leave)) {
            auto it = s.users.find(r[1].get<std::string>());
            if (it == s.users.end()) return gen_server::reply(error(not_here));
            unregister_global(Atom(it->first));
            unlink(it->second);
            exit(it->second, atoms::kill);
            s.users.erase(it);
            return gen_server::reply(atoms::ok);
        }
        if (r.is_tuple(4) && r[0].is_atom(say)) {
            try {
                send_global(Atom(r[2].get<std::string>()), Term::tuple({chat_msg, r[1], r[3]}));
            } catch (const BadArg&) {
                return gen_server::reply(error(no_such_user));
            }
            return gen_server::reply(atoms::ok);
        }
        if (r.is_tuple(3) && r[0].is_atom(broadcast)) {
            // Every chat server delivers to its own users (a BEAM node has
            // none: the cast is dropped there).
            std::vector<Term> to{node()};
            deliver(s, r[1], r[2]);
            for (Atom n : nodes()) {
                gen_server::cast(gen_server::NameOnNode{chat_name, n}, Term::tuple({deliver_local, r[1], r[2]}));
                to.push_back(n);
            }
            return gen_server::reply(Term::tuple({atoms::ok, Term::list(std::move(to))}));
        }
        if (r.is_tuple(2) && r[0].is_atom(inbox)) {
            auto user = whereis_global(Atom(r[1].get<std::string>()));
            if (!user) return gen_server::reply(error(no_such_user));
            Ref ref = make_ref();
            send(*user, Term::tuple({inbox, self(), ref}));
            auto answer = receive(
                [&](const Term& t) { return t.is_tuple(3) && t[0].is_atom(inbox_reply) && t[1] == Term(ref); },
                std::chrono::seconds(2));
            return gen_server::reply(answer ? (*answer)[2] : error(atoms::timeout));
        }
        if (r.is_atom(who)) {
            std::vector<Term> names;
            for (Atom n : global_names()) names.push_back(Term::binary(n.name()));
            return gen_server::reply(Term::list(std::move(names)));
        }
        return gen_server::reply(error(bad_request));
    }

    static void handle_cast(const Term& m, State& s) {
        if (m.is_tuple(3) && m[0].is_atom(deliver_local)) deliver(s, m[1], m[2]);
    }

    static void handle_info(const Term& m, State& s) {
        // A user process that died: forget it (the registry freed its name).
        if (m.is_tuple(3) && m[0].is_atom(atoms::EXIT))
            std::erase_if(s.users, [&](const auto& u) { return Term(u.second) == m[1]; });
    }

private:
    static void deliver(const State& s, const Term& from, const Term& text) {
        for (const auto& [name, pid] : s.users) send(pid, Term::tuple({chat_msg, from, text}));
    }
};

}  // namespace

OTPP_GEN_SERVER(Chat, "chat", "1.0.0")
