--- Call patterns the fuzzers avoid for now, because today's C core crashes
-- on them (issue 13). Each entry names its finding (F<n> in the fuzz
-- findings notes) and a Lua pattern matched against the logged line of a
-- call (what the child writes before making it, e.g.
-- `12 libbpf.map:update(libbpf.map#3[events], 1, {...})`). Remove an entry
-- when its crash is fixed; FUZZ_ALL=1 (`make fuzz FUZZ_ALL=1`) ignores the
-- whole list.
local KNOWN_CRASHES = {
  -- ELF fuzzer (spec/fuzz/elf.lua): no crash, hang, leak or UB found behind
  -- csrc/elfcheck.c in libbpf 1.5 or legacy_parse.c (spec/fuzz/README.md)
  -- BTF fuzzer (spec/fuzz/btf.lua): F7-F10, F12, F13 fixed (issue 13 item 1:
  -- codecs check types with the kernel's rules, spec/harden_btf_spec.lua)
  {id = "L1", pattern = "libbpf%.program:set_attach_target%(",
   why = "libbpf 1.1 keeps the vmlinux BTF that bpf_program__set_attach_target parses (prog.c) "
      .. "until a load, so an object closed unloaded leaks it: LeakSanitizer fails make asan "
      .. "(found when bpf.cdef/btf_build shifted seed 1's calls)"},
}

return KNOWN_CRASHES
