// libotpp-internal access to Term's representation (see the layout notes in
// otpp/term.hpp). Only the .cpp files of the SDK include this.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <new>

#include "otpp/term.hpp"

namespace otpp::detail {

// Allocation bookkeeping (term.cpp).
Box* allocate_box(std::size_t payload_bytes, std::uint32_t size);
void deallocate_box(Box* box) noexcept;

struct TermAccess {
    static std::uint32_t aux(const Term& t) noexcept { return t.aux_; }
    static std::uint64_t bits(const Term& t) noexcept { return t.p_.bits; }
    static std::int64_t integer(const Term& t) noexcept { return t.p_.i; }
    static double floating(const Term& t) noexcept { return t.p_.f; }
    static Box* box(const Term& t) noexcept { return t.p_.box; }
    static bool boxed(const Term& t) noexcept { return t.is_boxed_kind() && t.p_.box != nullptr; }
    static Atom atom(const Term& t) noexcept { return Atom::from_index(static_cast<std::uint32_t>(t.p_.bits)); }

    // Elements of a tuple (size terms) / list (tail followed by size terms) /
    // map entries / binary bytes; Box must be non-null.
    static Term* terms(Box* b) noexcept {
        return std::launder(reinterpret_cast<Term*>(reinterpret_cast<std::byte*>(b) + sizeof(Box)));
    }
    static MapEntry* map_entries(Box* b) noexcept {
        return std::launder(reinterpret_cast<MapEntry*>(reinterpret_cast<std::byte*>(b) + sizeof(Box)));
    }
    static char* bytes(Box* b) noexcept { return reinterpret_cast<char*>(b) + sizeof(Box); }

    // Raw Term storage inside a fresh box (before placement-new).
    static void* slot(Box* b, std::size_t i) noexcept {
        return reinterpret_cast<std::byte*>(b) + sizeof(Box) + i * sizeof(Term);
    }

    static Term make(TermKind kind, Box* box, std::uint32_t aux) noexcept { return Term(kind, box, aux); }

    // The list's tail slot and its proper elements (t must be a List).
    static const Term& list_tail(const Term& t) noexcept { return t.list_tail(); }
    static const Term* list_elements(const Term& t) noexcept { return t.box_terms() + 1; }
    static const Term* tuple_elements(const Term& t) noexcept { return t.data_terms(); }
    static const MapEntry* map_entries(const Term& t) noexcept {
        return t.p_.box ? map_entries(t.p_.box) : nullptr;
    }
    static std::string_view binary_bytes(const Term& t) noexcept { return {t.data_bytes(), t.aux_}; }

    // Builders that take ownership of a range by moving (used by the parser).
    static Term tuple_moving(Term* first, std::size_t n);
    static Term list_moving(Term* first, std::size_t n, Term tail);
};

}  // namespace otpp::detail
