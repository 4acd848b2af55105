#include "console.hpp"

#include <editline/readline.h>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <unistd.h>

namespace otppctl {

bool split_words(const std::string& line, std::vector<std::string>& words) {
    words.clear();
    std::string cur;
    bool in_word = false;
    char quote = 0;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quote) {
            if (c == quote) quote = 0;
            else if (c == '\\' && quote == '"' && i + 1 < line.size()) cur += line[++i];
            else cur += c;
        } else if (c == '\'' || c == '"') {
            quote = c;
            in_word = true;
        } else if (c == '\\' && i + 1 < line.size()) {
            cur += line[++i];
            in_word = true;
        } else if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            if (in_word) words.push_back(std::move(cur));
            cur.clear();
            in_word = false;
        } else {
            cur += c;
            in_word = true;
        }
    }
    if (quote) return false;
    if (in_word) words.push_back(std::move(cur));
    return true;
}

namespace {

char* complete_word(const char* text, int state) {
    static std::size_t next;
    static std::size_t len;
    if (state == 0) {
        next = 0;
        len = std::strlen(text);
    }
    const auto& words = command_words();
    while (next < words.size()) {
        const std::string& w = words[next++];
        if (w.compare(0, len, text) == 0) return ::strdup(w.c_str());
    }
    return nullptr;
}

char** complete(const char* text, int start, int) {
    rl_attempted_completion_over = 1;  // no file-name completion as a fallback
    if (start != 0) return nullptr;    // only the command word
    return rl_completion_matches(text, complete_word);
}

std::string history_file() {
    const char* home = std::getenv("HOME");
    return home && *home ? std::string(home) + "/.otppctl_history" : std::string();
}

// One line of input, without its newline; false at end of input.
bool next_line(bool tty, const std::string& prompt, std::string& line) {
    if (!tty) return static_cast<bool>(std::getline(std::cin, line));
    char* l = ::readline(prompt.c_str());
    if (!l) {
        std::fputc('\n', stdout);
        return false;
    }
    line = l;
    std::free(l);
    if (!line.empty() && line.find_first_not_of(" \t") != std::string::npos) ::add_history(line.c_str());
    return true;
}

}  // namespace

int run_console(Connection& conn, const Output& output) {
    Reply hello = conn.request(otpp::Term::tuple({otpp::Atom("hello"), otpp::Term()}), std::chrono::seconds(10));
    if (hello.kind != Reply::ok) {
        std::fprintf(output.err, "otppctl: %s\n", hello.message.c_str());
        return hello.kind == Reply::refused || hello.kind == Reply::error ? exit_cannot_connect : exit_protocol;
    }
    const otpp::Term* node = hello.value.find(otpp::Atom("node"));
    const std::string node_name = node && node->is_binary() ? std::string(node->bytes()) : "?";
    const bool tty = ::isatty(STDIN_FILENO) != 0;
    const std::string history = history_file();
    if (tty) {
        rl_readline_name = "otppctl";
        rl_attempted_completion_function = complete;
        ::using_history();
        if (!history.empty()) ::read_history(history.c_str());
        std::fprintf(output.out, "connected to %s (help for commands, quit or Ctrl-D to leave)\n", node_name.c_str());
    }
    const std::string prompt = "(" + node_name + ")> ";
    int status = exit_ok;
    std::string line;
    std::vector<std::string> words;
    while (next_line(tty, prompt, line)) {
        if (!split_words(line, words)) {
            std::fprintf(output.err, "otppctl: unclosed quote\n");
            status = exit_usage;
            continue;
        }
        if (words.empty() || words[0][0] == '#') continue;
        if (words[0] == "quit" || words[0] == "q") break;
        if (words[0] == "help") {
            print_usage(output.out);
            continue;
        }
        if (words[0] == "console") {
            std::fprintf(output.err, "otppctl: already in a console\n");
            status = exit_usage;
            continue;
        }
        if (!conn.alive()) conn.close();  // the host closed an idle connection: reconnect on demand
        int rc = run_command(conn, words, output);
        std::fflush(output.out);
        if (rc != exit_ok) status = rc;
    }
    if (tty && !history.empty()) ::write_history(history.c_str());
    return status;
}

}  // namespace otppctl
