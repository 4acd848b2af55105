#include "tls_test_pki.hpp"

#include "dist_peer.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace otpp::dist::test {

namespace {

[[noreturn]] void fail(const std::string& what) {
    char buf[256] = "";
    unsigned long e = ERR_get_error();
    if (e) ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    throw std::runtime_error("test PKI: " + what + (e ? std::string(": ") + buf : std::string()));
}

struct Key {
    EVP_PKEY* p = nullptr;
    ~Key() { EVP_PKEY_free(p); }
};
struct Cert {
    X509* p = nullptr;
    ~Cert() { X509_free(p); }
};

EVP_PKEY* new_key() {
    EVP_PKEY* k = EVP_EC_gen("P-256");
    if (!k) fail("EC key generation");
    return k;
}

void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    if (!ext) fail("extension " + value);
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
}

X509* new_cert(const std::string& cn, EVP_PKEY* key, int from_days, int to_days) {
    X509* x = X509_new();
    if (!x) fail("X509_new");
    X509_set_version(x, 2);
    std::uint8_t serial[8];
    RAND_bytes(serial, sizeof serial);
    serial[0] &= 0x7f;
    BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
    BN_free(bn);
    X509_gmtime_adj(X509_getm_notBefore(x), static_cast<long>(from_days) * 86400);
    X509_gmtime_adj(X509_getm_notAfter(x), static_cast<long>(to_days) * 86400);
    X509_set_pubkey(x, key);
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("otpp tests"), -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
    return x;
}

void write_cert(const std::filesystem::path& path, X509* cert) {
    FILE* f = std::fopen(path.c_str(), "w");
    if (!f) throw std::runtime_error("test PKI: cannot write " + path.string());
    bool ok = PEM_write_X509(f, cert) == 1;
    std::fclose(f);
    if (!ok) fail("writing " + path.string());
}

void write_key(const std::filesystem::path& path, EVP_PKEY* key, const std::string& password = {}) {
    FILE* f = std::fopen(path.c_str(), "w");
    if (!f) throw std::runtime_error("test PKI: cannot write " + path.string());
    bool ok = password.empty()
                  ? PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) == 1
                  : PEM_write_PrivateKey(f, key, EVP_aes_128_cbc(), nullptr, 0, nullptr,
                                         const_cast<char*>(password.c_str())) == 1;
    std::fclose(f);
    if (!ok) fail("writing " + path.string());
}

EVP_PKEY* read_key(const std::filesystem::path& path) {
    FILE* f = std::fopen(path.c_str(), "r");
    if (!f) throw std::runtime_error("test PKI: cannot read " + path.string());
    EVP_PKEY* k = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
    std::fclose(f);
    if (!k) fail("reading " + path.string());
    return k;
}

X509* read_cert(const std::filesystem::path& path) {
    FILE* f = std::fopen(path.c_str(), "r");
    if (!f) throw std::runtime_error("test PKI: cannot read " + path.string());
    X509* c = PEM_read_X509(f, nullptr, nullptr, nullptr);
    std::fclose(f);
    if (!c) fail("reading " + path.string());
    return c;
}

bool is_ipv4(const std::string& h) {
    return !h.empty() && std::all_of(h.begin(), h.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

// An Erlang string literal.
std::string erl_string(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

}  // namespace

CertFiles make_ca(const std::filesystem::path& dir, const std::string& name) {
    Key key{new_key()};
    Cert cert{new_cert(name, key.p, -1, 365)};
    X509_set_issuer_name(cert.p, X509_get_subject_name(cert.p));
    add_ext(cert.p, cert.p, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(cert.p, cert.p, NID_key_usage, "critical,keyCertSign,cRLSign");
    add_ext(cert.p, cert.p, NID_subject_key_identifier, "hash");
    if (X509_sign(cert.p, key.p, EVP_sha256()) == 0) fail("signing " + name);
    CertFiles out{dir / (name + ".crt"), dir / (name + ".key")};
    write_cert(out.cert, cert.p);
    write_key(out.key, key.p);
    return out;
}

CertFiles make_node_cert(const std::filesystem::path& dir, const std::string& name, const CertFiles& ca,
                         const NodeCertOptions& options) {
    Key ca_key{read_key(ca.key)};
    Cert ca_cert{read_cert(ca.cert)};
    Key key{new_key()};
    Cert cert{new_cert(name, key.p, options.valid_from_days, options.valid_to_days)};
    X509_set_issuer_name(cert.p, X509_get_subject_name(ca_cert.p));
    add_ext(cert.p, ca_cert.p, NID_basic_constraints, "critical,CA:FALSE");
    add_ext(cert.p, ca_cert.p, NID_key_usage, "critical,digitalSignature");
    add_ext(cert.p, ca_cert.p, NID_ext_key_usage, "serverAuth,clientAuth");
    add_ext(cert.p, ca_cert.p, NID_subject_key_identifier, "hash");
    add_ext(cert.p, ca_cert.p, NID_authority_key_identifier, "keyid:always");
    if (!options.hosts.empty()) {
        std::string san;
        for (const auto& h : options.hosts) san += (san.empty() ? "" : ",") + std::string(is_ipv4(h) ? "IP:" : "DNS:") + h;
        add_ext(cert.p, ca_cert.p, NID_subject_alt_name, san);
    }
    if (X509_sign(cert.p, ca_key.p, EVP_sha256()) == 0) fail("signing " + name);
    CertFiles out{dir / (name + ".crt"), dir / (name + ".key")};
    write_cert(out.cert, cert.p);
    write_key(out.key, key.p, options.key_password);
    return out;
}

std::vector<std::string> local_hosts() { return {short_host(), "localhost", "127.0.0.1"}; }

std::filesystem::path write_erl_optfile(const std::filesystem::path& dir, const std::string& name,
                                        const CertFiles& node, const std::filesystem::path& cacertfile,
                                        const std::string& extra) {
    const std::string common = "{certfile, " + erl_string(node.cert.string()) + "}, {keyfile, " +
                               erl_string(node.key.string()) + "}, {cacertfile, " +
                               erl_string(cacertfile.string()) + "}, {verify, verify_peer}" +
                               (extra.empty() ? "" : ", " + extra);
    const std::string text = "[{server, [" + common + ", {fail_if_no_peer_cert, true}]},\n {client, [" + common + "]}].\n";
    auto path = dir / (name + ".optfile");
    std::ofstream(path) << text;
    return path;
}

// ---------------------------------------------------------------- the log

namespace {

class CaptureSink final : public spdlog::sinks::base_sink<std::mutex> {
protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        LogCapture::get().append(std::string(msg.payload.data(), msg.payload.size()));
    }
    void flush_() override {}
};

}  // namespace

LogCapture& LogCapture::get() {
    static LogCapture* capture = [] {
        auto* c = new LogCapture();  // lives as long as the process: the sink may log late
        // A new default logger with the old one's sinks and ours; the old
        // one stays alive (a thread may still hold it for a moment).
        static std::shared_ptr<spdlog::logger> old = spdlog::default_logger();
        std::vector<spdlog::sink_ptr> sinks = old->sinks();
        sinks.push_back(std::make_shared<CaptureSink>());
        auto logger = std::make_shared<spdlog::logger>(old->name(), sinks.begin(), sinks.end());
        logger->set_level(old->level());
        spdlog::set_default_logger(logger);
        return c;
    }();
    return *capture;
}

void LogCapture::append(std::string line) {
    std::lock_guard lock(mutex_);
    lines_.push_back(std::move(line));
}

std::vector<std::string> LogCapture::lines_with(std::vector<std::string_view> needles) const {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    for (const auto& l : lines_)
        if (std::all_of(needles.begin(), needles.end(), [&](std::string_view n) { return l.find(n) != std::string::npos; }))
            out.push_back(l);
    return out;
}

bool LogCapture::wait_for(std::vector<std::string_view> needles, const Deadline& deadline) const {
    for (;;) {
        if (!lines_with(needles).empty()) return true;
        if (deadline.expired()) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

}  // namespace otpp::dist::test
