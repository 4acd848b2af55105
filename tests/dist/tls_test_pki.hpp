// Certificates for the TLS distribution tests, made with OpenSSL's API in a
// directory of the test's: CAs, and node certificates (EC P-256, SHA-256)
// that a CA signs; the PEM files otpp's TlsOptions and erl's
// ssl_dist_optfile name. Also writes erl's ssl_dist_optfile, and captures
// the log so a test can check what a refusal said.
#pragma once

#include <blocking_socket.hpp>

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace otpp::dist::test {

struct CertFiles {
    std::filesystem::path cert;  // PEM certificate
    std::filesystem::path key;   // PEM private key (unencrypted unless made with a password)
};

// A self-signed CA "CN=<name>" in dir/<name>.{crt,key}.
CertFiles make_ca(const std::filesystem::path& dir, const std::string& name);

struct NodeCertOptions {
    // subjectAltNames: DNS names, or IP addresses (dotted quads).
    std::vector<std::string> hosts;
    int valid_from_days = -1;  // notBefore, in days from now
    int valid_to_days = 30;    // notAfter, in days from now
    std::string key_password;  // non-empty: the key file is encrypted (AES-128-CBC) with it
};

// A node certificate "CN=<name>" signed by `ca`, in dir/<name>.{crt,key};
// usable as a TLS server and client (extendedKeyUsage both).
CertFiles make_node_cert(const std::filesystem::path& dir, const std::string& name, const CertFiles& ca,
                         const NodeCertOptions& options);

// The hosts a node certificate for this machine names: the short host name
// (what erl -sname puts after the @), "localhost" and 127.0.0.1.
std::vector<std::string> local_hosts();

// erl's -ssl_dist_optfile: the same certificate, key and CAs for its server
// and client sides, verify_peer both ways, fail_if_no_peer_cert, plus
// `extra` (Erlang terms, e.g. "{versions, ['tlsv1.3']}") in both. Returns
// the file's path (dir/<name>.optfile).
std::filesystem::path write_erl_optfile(const std::filesystem::path& dir, const std::string& name,
                                        const CertFiles& node, const std::filesystem::path& cacertfile,
                                        const std::string& extra = {});

// Every log line from when it is installed (once per process, on first
// use; the lines still go to stderr as before).
class LogCapture {
public:
    static LogCapture& get();
    // True once a line containing all of `needles` has been logged; waits
    // up to the deadline.
    bool wait_for(std::vector<std::string_view> needles, const Deadline& deadline) const;
    // The lines containing all of `needles` so far.
    std::vector<std::string> lines_with(std::vector<std::string_view> needles) const;
    void append(std::string line);

private:
    LogCapture() = default;
    mutable std::mutex mutex_;
    std::vector<std::string> lines_;
};

}  // namespace otpp::dist::test
