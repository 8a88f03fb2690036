# Source this file (bash): when Debian's libjemalloc2 is installed, it exports LD_PRELOAD (jemalloc
# first) and, unless already set, MALLOC_CONF=dirty_decay_ms:-1,muzzy_decay_ms:-1, so that the
# next process runs on jemalloc and keeps the pages it frees for reuse (with jemalloc's default
# decay every MobileNetV2 step page-faulted its tensors in again: 25x slower). The trainer hands
# free pages back at each epoch's end instead.
# jemalloc keeps small allocations apart from libtorch's big blocks, which glibc's heap lets
# fragment (README, Platform notes: "Allocator"). PPCLS_MALLOC_TUNING=glibc or =0 leaves glibc.
# Used by ./ppcls and scripts/benchmark-peer.sh.
case "${PPCLS_MALLOC_TUNING:-1}" in
  0 | glibc) ;;
  *)
    for _ppcls_jemalloc in "/usr/lib/$(uname -m)-linux-gnu/libjemalloc.so.2" /usr/lib64/libjemalloc.so.2 /usr/lib/libjemalloc.so.2; do
      if [ -f "$_ppcls_jemalloc" ]; then
        case ":${LD_PRELOAD:-}:" in
          *":$_ppcls_jemalloc:"*) ;;
          *) export LD_PRELOAD="$_ppcls_jemalloc${LD_PRELOAD:+:$LD_PRELOAD}" ;;
        esac
        export MALLOC_CONF="${MALLOC_CONF:-dirty_decay_ms:-1,muzzy_decay_ms:-1}"
        break
      fi
    done
    unset _ppcls_jemalloc
    ;;
esac
