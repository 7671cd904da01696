;; The JSON string escaper's fast path (services/heka/json_escape.ts), in
;; WebAssembly with 128-bit SIMD. `deno task wasm` compiles it into
;; json_escape_wasm.ts; tests/wasm/wasm_test.ts fails when the two differ.
;;
;; escape(i, len, o) writes the bytes [i, i + len) of memory as the body of
;; a JSON string at o and returns the end of what it wrote: the same bytes
;; as services/heka/json_bytes.ts `writeJsonString`, i.e. the UTF-8 of
;; JSON.stringify(new TextDecoder().decode(bytes)) without its quotes.
;; Plain ASCII goes 16 bytes at a time; a quote, backslash or control byte
;; is escaped; a well-formed UTF-8 sequence is copied and an ill-formed one
;; becomes U+FFFD per maximal subpart, as the WHATWG decoder does. The
;; caller leaves 6 bytes per input byte and 16 more at o: a block is stored
;; whole before the output advances past its plain bytes only.
(module
  (memory (export "memory") 1)
  (func (export "escape") (param $i i32) (param $len i32) (param $o i32) (result i32)
    (local $end i32) (local $v v128) (local $m i32) (local $k i32) (local $b i32)
    (local $need i32) (local $lo i32) (local $hi i32) (local $c i32) (local $n i32)
    (local.set $end (i32.add (local.get $i) (local.get $len)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (if (i32.le_u (i32.add (local.get $i) (i32.const 16)) (local.get $end))
          (then
            (local.set $v (v128.load align=1 (local.get $i)))
            (local.set $m (i8x16.bitmask
              (v128.or
                (i8x16.lt_s (local.get $v) (i8x16.splat (i32.const 0x20)))
                (v128.or
                  (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0x22)))
                  (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0x5c)))))))
            (v128.store align=1 (local.get $o) (local.get $v))
            (if (i32.eqz (local.get $m))
              (then
                (local.set $i (i32.add (local.get $i) (i32.const 16)))
                (local.set $o (i32.add (local.get $o) (i32.const 16)))
                (br $next)))
            (local.set $k (i32.ctz (local.get $m)))
            (local.set $i (i32.add (local.get $i) (local.get $k)))
            (local.set $o (i32.add (local.get $o) (local.get $k)))))
        ;; the byte at i: not plain, or one of the last 15
        (local.set $b (i32.load8_u (local.get $i)))
        (if (i32.and (i32.ge_u (local.get $b) (i32.const 0x20)) (i32.lt_u (local.get $b) (i32.const 0x80)))
          (then
            (if (i32.or (i32.eq (local.get $b) (i32.const 0x22)) (i32.eq (local.get $b) (i32.const 0x5c)))
              (then
                (i32.store8 (local.get $o) (i32.const 0x5c))
                (i32.store8 offset=1 (local.get $o) (local.get $b))
                (local.set $o (i32.add (local.get $o) (i32.const 2))))
              (else
                (i32.store8 (local.get $o) (local.get $b))
                (local.set $o (i32.add (local.get $o) (i32.const 1)))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $next)))
        (if (i32.lt_u (local.get $b) (i32.const 0x20))
          (then
            (i32.store8 (local.get $o) (i32.const 0x5c))
            (local.set $c (i32.const 0))
            (if (i32.eq (local.get $b) (i32.const 0x08)) (then (local.set $c (i32.const 0x62))))
            (if (i32.eq (local.get $b) (i32.const 0x09)) (then (local.set $c (i32.const 0x74))))
            (if (i32.eq (local.get $b) (i32.const 0x0a)) (then (local.set $c (i32.const 0x6e))))
            (if (i32.eq (local.get $b) (i32.const 0x0c)) (then (local.set $c (i32.const 0x66))))
            (if (i32.eq (local.get $b) (i32.const 0x0d)) (then (local.set $c (i32.const 0x72))))
            (if (local.get $c)
              (then
                (i32.store8 offset=1 (local.get $o) (local.get $c))
                (local.set $o (i32.add (local.get $o) (i32.const 2))))
              (else
                ;; \u00XX
                (i32.store8 offset=1 (local.get $o) (i32.const 0x75))
                (i32.store8 offset=2 (local.get $o) (i32.const 0x30))
                (i32.store8 offset=3 (local.get $o) (i32.const 0x30))
                (i32.store8 offset=4 (local.get $o) (i32.add (i32.const 0x30) (i32.shr_u (local.get $b) (i32.const 4))))
                (local.set $c (i32.and (local.get $b) (i32.const 15)))
                (i32.store8 offset=5 (local.get $o)
                  (i32.add (local.get $c) (select (i32.const 0x57) (i32.const 0x30) (i32.ge_u (local.get $c) (i32.const 10)))))
                (local.set $o (i32.add (local.get $o) (i32.const 6)))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $next)))
        ;; b >= 0x80: a UTF-8 sequence, or U+FFFD for its maximal ill-formed subpart
        (local.set $lo (i32.const 0x80))
        (local.set $hi (i32.const 0xbf))
        (local.set $need (i32.const 0))
        (if (i32.and (i32.ge_u (local.get $b) (i32.const 0xc2)) (i32.le_u (local.get $b) (i32.const 0xdf)))
          (then (local.set $need (i32.const 1))))
        (if (i32.and (i32.ge_u (local.get $b) (i32.const 0xe0)) (i32.le_u (local.get $b) (i32.const 0xef)))
          (then
            (local.set $need (i32.const 2))
            (if (i32.eq (local.get $b) (i32.const 0xe0)) (then (local.set $lo (i32.const 0xa0))))
            (if (i32.eq (local.get $b) (i32.const 0xed)) (then (local.set $hi (i32.const 0x9f))))))
        (if (i32.and (i32.ge_u (local.get $b) (i32.const 0xf0)) (i32.le_u (local.get $b) (i32.const 0xf4)))
          (then
            (local.set $need (i32.const 3))
            (if (i32.eq (local.get $b) (i32.const 0xf0)) (then (local.set $lo (i32.const 0x90))))
            (if (i32.eq (local.get $b) (i32.const 0xf4)) (then (local.set $hi (i32.const 0x8f))))))
        ;; n: bytes of the sequence accepted so far (the lead byte is 1)
        (local.set $n (i32.const 1))
        (block $bad
          (br_if $bad (i32.eqz (local.get $need)))
          (loop $cont
            (br_if $bad (i32.ge_u (i32.add (local.get $i) (local.get $n)) (local.get $end)))
            (local.set $c (i32.load8_u (i32.add (local.get $i) (local.get $n))))
            (br_if $bad (i32.lt_u (local.get $c) (local.get $lo)))
            (br_if $bad (i32.gt_u (local.get $c) (local.get $hi)))
            (local.set $lo (i32.const 0x80))
            (local.set $hi (i32.const 0xbf))
            (local.set $n (i32.add (local.get $n) (i32.const 1)))
            (br_if $cont (i32.le_u (local.get $n) (local.get $need))))
          ;; well-formed: copy n bytes
          (memory.copy (local.get $o) (local.get $i) (local.get $n))
          (local.set $o (i32.add (local.get $o) (local.get $n)))
          (local.set $i (i32.add (local.get $i) (local.get $n)))
          (br $next))
        ;; ill-formed: U+FFFD replaces the n bytes accepted so far
        (i32.store8 (local.get $o) (i32.const 0xef))
        (i32.store8 offset=1 (local.get $o) (i32.const 0xbf))
        (i32.store8 offset=2 (local.get $o) (i32.const 0xbd))
        (local.set $o (i32.add (local.get $o) (i32.const 3)))
        (local.set $i (i32.add (local.get $i) (local.get $n)))
        (br $next)))
    (local.get $o)))
