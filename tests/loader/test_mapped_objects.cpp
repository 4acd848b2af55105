// mapped_objects: finding a file's mappings in /proc/self/maps, by inode and
// by name, also after the file was unlinked.
#include "code/mapped_objects.hpp"
#include "support.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

using namespace otpp;
using namespace otpp::test;
using code::mappings_of;

namespace {

struct MappedFile {
    explicit MappedFile(const fs::path& file) {
        std::ofstream(file, std::ios::binary) << std::string(8192, 'x');
        int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
        REQUIRE(fd >= 0);
        address = ::mmap(nullptr, 8192, PROT_READ, MAP_PRIVATE, fd, 0);
        ::close(fd);
        REQUIRE(address != MAP_FAILED);
    }
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;
    ~MappedFile() { unmap(); }
    void unmap() {
        if (address) ::munmap(address, 8192);
        address = nullptr;
    }
    void* address = nullptr;
};

}  // namespace

TEST_CASE("a mapped file is found by inode, and not once unmapped", "[loader][mapped]") {
    TempDir dir;
    fs::path file = dir.path / "data.bin";
    MappedFile mapped(file);
    code::FileIdentity identity = code::identify_file(file, false);

    auto found = mappings_of(identity);
    REQUIRE(found.size() == 1);
    CHECK(found[0].begin == reinterpret_cast<std::uintptr_t>(mapped.address));
    CHECK(found[0].end - found[0].begin == 8192);
    CHECK(found[0].path == file.string());
    CHECK_FALSE(found[0].deleted);

    mapped.unmap();
    CHECK(mappings_of(identity).empty());
}

TEST_CASE("an unlinked file that is still mapped is found, marked deleted", "[loader][mapped]") {
    TempDir dir;
    fs::path file = dir.path / "gone.bin";
    MappedFile mapped(file);
    code::FileIdentity identity = code::identify_file(file, false);
    fs::remove(file);

    auto found = mappings_of(identity);
    REQUIRE(found.size() == 1);
    CHECK(found[0].deleted);
    CHECK(found[0].path == file.string());
}

TEST_CASE("a mapping is found by file name when the inode does not match", "[loader][mapped]") {
    // What overlayfs looks like: the kernel shows another device and inode.
    TempDir dir;
    fs::path file = dir.path / "named-5-0123456789abcdef.bin";
    MappedFile mapped(file);
    code::FileIdentity by_name{0, 0, 0, file.filename().string()};
    CHECK(mappings_of(by_name).size() == 1);
    code::FileIdentity other_name{0, 0, 0, "named-6-0123456789abcdef.bin"};
    CHECK(mappings_of(other_name).empty());
}
