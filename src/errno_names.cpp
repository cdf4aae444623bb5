// SPDX-License-Identifier: BSL-1.0
// eyeballs — errno names: every Linux <errno.h> name, in <errno.h> order.
//
// The table lists each name once, aliases right after the name they alias
// (EWOULDBLOCK after ELOOP as in <asm-generic/errno.h>, ENOTSUP after
// EOPNOTSUPP as glibc's <bits/errno.h> defines it). A value's name is its
// first entry, so aliases parse but print as the canonical spelling. Every
// entry is guarded, so the file builds on a libc that lacks some of them.
#include <cerrno>
#include <cstddef>
#include <optional>
#include <string_view>

#include "eyeballs/error.hpp"

namespace eyeballs {
namespace {

struct ErrnoEntry {
    const char* name;
    int code;
};

#define EYEBALLS_ERRNO(name) {#name, name},

constexpr ErrnoEntry errno_table[] = {
#ifdef EPERM
    EYEBALLS_ERRNO(EPERM)
#endif
#ifdef ENOENT
    EYEBALLS_ERRNO(ENOENT)
#endif
#ifdef ESRCH
    EYEBALLS_ERRNO(ESRCH)
#endif
#ifdef EINTR
    EYEBALLS_ERRNO(EINTR)
#endif
#ifdef EIO
    EYEBALLS_ERRNO(EIO)
#endif
#ifdef ENXIO
    EYEBALLS_ERRNO(ENXIO)
#endif
#ifdef E2BIG
    EYEBALLS_ERRNO(E2BIG)
#endif
#ifdef ENOEXEC
    EYEBALLS_ERRNO(ENOEXEC)
#endif
#ifdef EBADF
    EYEBALLS_ERRNO(EBADF)
#endif
#ifdef ECHILD
    EYEBALLS_ERRNO(ECHILD)
#endif
#ifdef EAGAIN
    EYEBALLS_ERRNO(EAGAIN)
#endif
#ifdef ENOMEM
    EYEBALLS_ERRNO(ENOMEM)
#endif
#ifdef EACCES
    EYEBALLS_ERRNO(EACCES)
#endif
#ifdef EFAULT
    EYEBALLS_ERRNO(EFAULT)
#endif
#ifdef ENOTBLK
    EYEBALLS_ERRNO(ENOTBLK)
#endif
#ifdef EBUSY
    EYEBALLS_ERRNO(EBUSY)
#endif
#ifdef EEXIST
    EYEBALLS_ERRNO(EEXIST)
#endif
#ifdef EXDEV
    EYEBALLS_ERRNO(EXDEV)
#endif
#ifdef ENODEV
    EYEBALLS_ERRNO(ENODEV)
#endif
#ifdef ENOTDIR
    EYEBALLS_ERRNO(ENOTDIR)
#endif
#ifdef EISDIR
    EYEBALLS_ERRNO(EISDIR)
#endif
#ifdef EINVAL
    EYEBALLS_ERRNO(EINVAL)
#endif
#ifdef ENFILE
    EYEBALLS_ERRNO(ENFILE)
#endif
#ifdef EMFILE
    EYEBALLS_ERRNO(EMFILE)
#endif
#ifdef ENOTTY
    EYEBALLS_ERRNO(ENOTTY)
#endif
#ifdef ETXTBSY
    EYEBALLS_ERRNO(ETXTBSY)
#endif
#ifdef EFBIG
    EYEBALLS_ERRNO(EFBIG)
#endif
#ifdef ENOSPC
    EYEBALLS_ERRNO(ENOSPC)
#endif
#ifdef ESPIPE
    EYEBALLS_ERRNO(ESPIPE)
#endif
#ifdef EROFS
    EYEBALLS_ERRNO(EROFS)
#endif
#ifdef EMLINK
    EYEBALLS_ERRNO(EMLINK)
#endif
#ifdef EPIPE
    EYEBALLS_ERRNO(EPIPE)
#endif
#ifdef EDOM
    EYEBALLS_ERRNO(EDOM)
#endif
#ifdef ERANGE
    EYEBALLS_ERRNO(ERANGE)
#endif
#ifdef EDEADLK
    EYEBALLS_ERRNO(EDEADLK)
#endif
#ifdef ENAMETOOLONG
    EYEBALLS_ERRNO(ENAMETOOLONG)
#endif
#ifdef ENOLCK
    EYEBALLS_ERRNO(ENOLCK)
#endif
#ifdef ENOSYS
    EYEBALLS_ERRNO(ENOSYS)
#endif
#ifdef ENOTEMPTY
    EYEBALLS_ERRNO(ENOTEMPTY)
#endif
#ifdef ELOOP
    EYEBALLS_ERRNO(ELOOP)
#endif
#ifdef EWOULDBLOCK
    EYEBALLS_ERRNO(EWOULDBLOCK)
#endif
#ifdef ENOMSG
    EYEBALLS_ERRNO(ENOMSG)
#endif
#ifdef EIDRM
    EYEBALLS_ERRNO(EIDRM)
#endif
#ifdef ECHRNG
    EYEBALLS_ERRNO(ECHRNG)
#endif
#ifdef EL2NSYNC
    EYEBALLS_ERRNO(EL2NSYNC)
#endif
#ifdef EL3HLT
    EYEBALLS_ERRNO(EL3HLT)
#endif
#ifdef EL3RST
    EYEBALLS_ERRNO(EL3RST)
#endif
#ifdef ELNRNG
    EYEBALLS_ERRNO(ELNRNG)
#endif
#ifdef EUNATCH
    EYEBALLS_ERRNO(EUNATCH)
#endif
#ifdef ENOCSI
    EYEBALLS_ERRNO(ENOCSI)
#endif
#ifdef EL2HLT
    EYEBALLS_ERRNO(EL2HLT)
#endif
#ifdef EBADE
    EYEBALLS_ERRNO(EBADE)
#endif
#ifdef EBADR
    EYEBALLS_ERRNO(EBADR)
#endif
#ifdef EXFULL
    EYEBALLS_ERRNO(EXFULL)
#endif
#ifdef ENOANO
    EYEBALLS_ERRNO(ENOANO)
#endif
#ifdef EBADRQC
    EYEBALLS_ERRNO(EBADRQC)
#endif
#ifdef EBADSLT
    EYEBALLS_ERRNO(EBADSLT)
#endif
#ifdef EDEADLOCK
    EYEBALLS_ERRNO(EDEADLOCK)
#endif
#ifdef EBFONT
    EYEBALLS_ERRNO(EBFONT)
#endif
#ifdef ENOSTR
    EYEBALLS_ERRNO(ENOSTR)
#endif
#ifdef ENODATA
    EYEBALLS_ERRNO(ENODATA)
#endif
#ifdef ETIME
    EYEBALLS_ERRNO(ETIME)
#endif
#ifdef ENOSR
    EYEBALLS_ERRNO(ENOSR)
#endif
#ifdef ENONET
    EYEBALLS_ERRNO(ENONET)
#endif
#ifdef ENOPKG
    EYEBALLS_ERRNO(ENOPKG)
#endif
#ifdef EREMOTE
    EYEBALLS_ERRNO(EREMOTE)
#endif
#ifdef ENOLINK
    EYEBALLS_ERRNO(ENOLINK)
#endif
#ifdef EADV
    EYEBALLS_ERRNO(EADV)
#endif
#ifdef ESRMNT
    EYEBALLS_ERRNO(ESRMNT)
#endif
#ifdef ECOMM
    EYEBALLS_ERRNO(ECOMM)
#endif
#ifdef EPROTO
    EYEBALLS_ERRNO(EPROTO)
#endif
#ifdef EMULTIHOP
    EYEBALLS_ERRNO(EMULTIHOP)
#endif
#ifdef EDOTDOT
    EYEBALLS_ERRNO(EDOTDOT)
#endif
#ifdef EBADMSG
    EYEBALLS_ERRNO(EBADMSG)
#endif
#ifdef EOVERFLOW
    EYEBALLS_ERRNO(EOVERFLOW)
#endif
#ifdef ENOTUNIQ
    EYEBALLS_ERRNO(ENOTUNIQ)
#endif
#ifdef EBADFD
    EYEBALLS_ERRNO(EBADFD)
#endif
#ifdef EREMCHG
    EYEBALLS_ERRNO(EREMCHG)
#endif
#ifdef ELIBACC
    EYEBALLS_ERRNO(ELIBACC)
#endif
#ifdef ELIBBAD
    EYEBALLS_ERRNO(ELIBBAD)
#endif
#ifdef ELIBSCN
    EYEBALLS_ERRNO(ELIBSCN)
#endif
#ifdef ELIBMAX
    EYEBALLS_ERRNO(ELIBMAX)
#endif
#ifdef ELIBEXEC
    EYEBALLS_ERRNO(ELIBEXEC)
#endif
#ifdef EILSEQ
    EYEBALLS_ERRNO(EILSEQ)
#endif
#ifdef ERESTART
    EYEBALLS_ERRNO(ERESTART)
#endif
#ifdef ESTRPIPE
    EYEBALLS_ERRNO(ESTRPIPE)
#endif
#ifdef EUSERS
    EYEBALLS_ERRNO(EUSERS)
#endif
#ifdef ENOTSOCK
    EYEBALLS_ERRNO(ENOTSOCK)
#endif
#ifdef EDESTADDRREQ
    EYEBALLS_ERRNO(EDESTADDRREQ)
#endif
#ifdef EMSGSIZE
    EYEBALLS_ERRNO(EMSGSIZE)
#endif
#ifdef EPROTOTYPE
    EYEBALLS_ERRNO(EPROTOTYPE)
#endif
#ifdef ENOPROTOOPT
    EYEBALLS_ERRNO(ENOPROTOOPT)
#endif
#ifdef EPROTONOSUPPORT
    EYEBALLS_ERRNO(EPROTONOSUPPORT)
#endif
#ifdef ESOCKTNOSUPPORT
    EYEBALLS_ERRNO(ESOCKTNOSUPPORT)
#endif
#ifdef EOPNOTSUPP
    EYEBALLS_ERRNO(EOPNOTSUPP)
#endif
#ifdef ENOTSUP
    EYEBALLS_ERRNO(ENOTSUP)
#endif
#ifdef EPFNOSUPPORT
    EYEBALLS_ERRNO(EPFNOSUPPORT)
#endif
#ifdef EAFNOSUPPORT
    EYEBALLS_ERRNO(EAFNOSUPPORT)
#endif
#ifdef EADDRINUSE
    EYEBALLS_ERRNO(EADDRINUSE)
#endif
#ifdef EADDRNOTAVAIL
    EYEBALLS_ERRNO(EADDRNOTAVAIL)
#endif
#ifdef ENETDOWN
    EYEBALLS_ERRNO(ENETDOWN)
#endif
#ifdef ENETUNREACH
    EYEBALLS_ERRNO(ENETUNREACH)
#endif
#ifdef ENETRESET
    EYEBALLS_ERRNO(ENETRESET)
#endif
#ifdef ECONNABORTED
    EYEBALLS_ERRNO(ECONNABORTED)
#endif
#ifdef ECONNRESET
    EYEBALLS_ERRNO(ECONNRESET)
#endif
#ifdef ENOBUFS
    EYEBALLS_ERRNO(ENOBUFS)
#endif
#ifdef EISCONN
    EYEBALLS_ERRNO(EISCONN)
#endif
#ifdef ENOTCONN
    EYEBALLS_ERRNO(ENOTCONN)
#endif
#ifdef ESHUTDOWN
    EYEBALLS_ERRNO(ESHUTDOWN)
#endif
#ifdef ETOOMANYREFS
    EYEBALLS_ERRNO(ETOOMANYREFS)
#endif
#ifdef ETIMEDOUT
    EYEBALLS_ERRNO(ETIMEDOUT)
#endif
#ifdef ECONNREFUSED
    EYEBALLS_ERRNO(ECONNREFUSED)
#endif
#ifdef EHOSTDOWN
    EYEBALLS_ERRNO(EHOSTDOWN)
#endif
#ifdef EHOSTUNREACH
    EYEBALLS_ERRNO(EHOSTUNREACH)
#endif
#ifdef EALREADY
    EYEBALLS_ERRNO(EALREADY)
#endif
#ifdef EINPROGRESS
    EYEBALLS_ERRNO(EINPROGRESS)
#endif
#ifdef ESTALE
    EYEBALLS_ERRNO(ESTALE)
#endif
#ifdef EUCLEAN
    EYEBALLS_ERRNO(EUCLEAN)
#endif
#ifdef ENOTNAM
    EYEBALLS_ERRNO(ENOTNAM)
#endif
#ifdef ENAVAIL
    EYEBALLS_ERRNO(ENAVAIL)
#endif
#ifdef EISNAM
    EYEBALLS_ERRNO(EISNAM)
#endif
#ifdef EREMOTEIO
    EYEBALLS_ERRNO(EREMOTEIO)
#endif
#ifdef EDQUOT
    EYEBALLS_ERRNO(EDQUOT)
#endif
#ifdef ENOMEDIUM
    EYEBALLS_ERRNO(ENOMEDIUM)
#endif
#ifdef EMEDIUMTYPE
    EYEBALLS_ERRNO(EMEDIUMTYPE)
#endif
#ifdef ECANCELED
    EYEBALLS_ERRNO(ECANCELED)
#endif
#ifdef ENOKEY
    EYEBALLS_ERRNO(ENOKEY)
#endif
#ifdef EKEYEXPIRED
    EYEBALLS_ERRNO(EKEYEXPIRED)
#endif
#ifdef EKEYREVOKED
    EYEBALLS_ERRNO(EKEYREVOKED)
#endif
#ifdef EKEYREJECTED
    EYEBALLS_ERRNO(EKEYREJECTED)
#endif
#ifdef EOWNERDEAD
    EYEBALLS_ERRNO(EOWNERDEAD)
#endif
#ifdef ENOTRECOVERABLE
    EYEBALLS_ERRNO(ENOTRECOVERABLE)
#endif
#ifdef ERFKILL
    EYEBALLS_ERRNO(ERFKILL)
#endif
#ifdef EHWPOISON
    EYEBALLS_ERRNO(EHWPOISON)
#endif
};

#undef EYEBALLS_ERRNO

}  // namespace

const char* errno_name(int code) noexcept {
    for (const ErrnoEntry& e : errno_table) {
        if (e.code == code) return e.name;
    }
    return nullptr;
}

std::optional<int> errno_from_name(std::string_view name) noexcept {
    for (const ErrnoEntry& e : errno_table) {
        if (name == e.name) return e.code;
    }
    return std::nullopt;
}

}  // namespace eyeballs
