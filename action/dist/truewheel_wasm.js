/* @ts-self-types="./truewheel_wasm.d.ts" */

/**
 * An audit: the report's JSON text, and the verdict against the policy asked for.
 */
class AuditResult {
    static __wrap(ptr) {
        const obj = Object.create(AuditResult.prototype);
        obj.__wbg_ptr = ptr;
        AuditResultFinalization.register(obj, obj.__wbg_ptr, obj);
        return obj;
    }
    __destroy_into_raw() {
        const ptr = this.__wbg_ptr;
        this.__wbg_ptr = 0;
        AuditResultFinalization.unregister(this);
        return ptr;
    }
    free() {
        const ptr = this.__destroy_into_raw();
        wasm.__wbg_auditresult_free(ptr, 0);
    }
    /**
     * Every tag asked for was judged by another evaluation than the main one: the notes
     * say the verdict (the CLI prints no `fails` line of its own), the findings its cause.
     * @returns {boolean}
     */
    get apart() {
        const ret = wasm.__wbg_get_auditresult_apart(this.__wbg_ptr);
        return ret !== 0;
    }
    /**
     * `truewheel audit --json --wheel-only`.
     * @returns {string}
     */
    get json() {
        let deferred1_0;
        let deferred1_1;
        try {
            const ret = wasm.__wbg_get_auditresult_json(this.__wbg_ptr);
            deferred1_0 = ret[0];
            deferred1_1 = ret[1];
            return getStringFromWasm0(ret[0], ret[1]);
        } finally {
            wasm.__wbindgen_free(deferred1_0, deferred1_1, 1);
        }
    }
    /**
     * What explains the verdict besides the report's findings, one sentence each (a
     * tag of another C library's family or architecture), as the CLI prints them.
     * @returns {string[]}
     */
    get notes() {
        const ret = wasm.__wbg_get_auditresult_notes(this.__wbg_ptr);
        var v1 = getArrayJsValueFromWasm0(ret[0], ret[1]);
        wasm.__wbindgen_free(ret[0], ret[1] * 4, 4);
        return v1;
    }
    /**
     * The wheel meets the policy asked for (default: its own platform tags).
     * @returns {boolean}
     */
    get pass() {
        const ret = wasm.__wbg_get_auditresult_pass(this.__wbg_ptr);
        return ret !== 0;
    }
    /**
     * That policy as text.
     * @returns {string}
     */
    get wanted() {
        let deferred1_0;
        let deferred1_1;
        try {
            const ret = wasm.__wbg_get_auditresult_wanted(this.__wbg_ptr);
            deferred1_0 = ret[0];
            deferred1_1 = ret[1];
            return getStringFromWasm0(ret[0], ret[1]);
        } finally {
            wasm.__wbindgen_free(deferred1_0, deferred1_1, 1);
        }
    }
    /**
     * Every tag asked for was judged by another evaluation than the main one: the notes
     * say the verdict (the CLI prints no `fails` line of its own), the findings its cause.
     * @param {boolean} arg0
     */
    set apart(arg0) {
        wasm.__wbg_set_auditresult_apart(this.__wbg_ptr, arg0);
    }
    /**
     * `truewheel audit --json --wheel-only`.
     * @param {string} arg0
     */
    set json(arg0) {
        const ptr0 = passStringToWasm0(arg0, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
        const len0 = WASM_VECTOR_LEN;
        wasm.__wbg_set_auditresult_json(this.__wbg_ptr, ptr0, len0);
    }
    /**
     * What explains the verdict besides the report's findings, one sentence each (a
     * tag of another C library's family or architecture), as the CLI prints them.
     * @param {string[]} arg0
     */
    set notes(arg0) {
        const ptr0 = passArrayJsValueToWasm0(arg0, wasm.__wbindgen_malloc);
        const len0 = WASM_VECTOR_LEN;
        wasm.__wbg_set_auditresult_notes(this.__wbg_ptr, ptr0, len0);
    }
    /**
     * The wheel meets the policy asked for (default: its own platform tags).
     * @param {boolean} arg0
     */
    set pass(arg0) {
        wasm.__wbg_set_auditresult_pass(this.__wbg_ptr, arg0);
    }
    /**
     * That policy as text.
     * @param {string} arg0
     */
    set wanted(arg0) {
        const ptr0 = passStringToWasm0(arg0, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
        const len0 = WASM_VECTOR_LEN;
        wasm.__wbg_set_auditresult_wanted(this.__wbg_ptr, ptr0, len0);
    }
}
if (Symbol.dispose) AuditResult.prototype[Symbol.dispose] = AuditResult.prototype.free;
exports.AuditResult = AuditResult;

/**
 * A retagged wheel.
 */
class Retagged {
    static __wrap(ptr) {
        const obj = Object.create(Retagged.prototype);
        obj.__wbg_ptr = ptr;
        RetaggedFinalization.register(obj, obj.__wbg_ptr, obj);
        return obj;
    }
    __destroy_into_raw() {
        const ptr = this.__wbg_ptr;
        this.__wbg_ptr = 0;
        RetaggedFinalization.unregister(this);
        return ptr;
    }
    free() {
        const ptr = this.__destroy_into_raw();
        wasm.__wbg_retagged_free(ptr, 0);
    }
    /**
     * Its bytes.
     * @returns {Uint8Array}
     */
    get bytes() {
        const ret = wasm.__wbg_get_retagged_bytes(this.__wbg_ptr);
        var v1 = getArrayU8FromWasm0(ret[0], ret[1]).slice();
        wasm.__wbindgen_free(ret[0], ret[1] * 1, 1);
        return v1;
    }
    /**
     * Its new file name.
     * @returns {string}
     */
    get name() {
        let deferred1_0;
        let deferred1_1;
        try {
            const ret = wasm.__wbg_get_retagged_name(this.__wbg_ptr);
            deferred1_0 = ret[0];
            deferred1_1 = ret[1];
            return getStringFromWasm0(ret[0], ret[1]);
        } finally {
            wasm.__wbindgen_free(deferred1_0, deferred1_1, 1);
        }
    }
    /**
     * Its bytes.
     * @param {Uint8Array} arg0
     */
    set bytes(arg0) {
        const ptr0 = passArray8ToWasm0(arg0, wasm.__wbindgen_malloc);
        const len0 = WASM_VECTOR_LEN;
        wasm.__wbg_set_retagged_bytes(this.__wbg_ptr, ptr0, len0);
    }
    /**
     * Its new file name.
     * @param {string} arg0
     */
    set name(arg0) {
        const ptr0 = passStringToWasm0(arg0, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
        const len0 = WASM_VECTOR_LEN;
        wasm.__wbg_set_retagged_name(this.__wbg_ptr, ptr0, len0);
    }
}
if (Symbol.dispose) Retagged.prototype[Symbol.dispose] = Retagged.prototype.free;
exports.Retagged = Retagged;

/**
 * Room for a wheel's bytes in the module's memory, filled a chunk at a time
 * (`buf.set(offset, chunk)`), so that a large wheel is held once, not twice (the whole
 * file in JavaScript and its copy in the module); then [`WheelFile::from_buffer`].
 */
class WheelBuffer {
    static __wrap(ptr) {
        const obj = Object.create(WheelBuffer.prototype);
        obj.__wbg_ptr = ptr;
        WheelBufferFinalization.register(obj, obj.__wbg_ptr, obj);
        return obj;
    }
    __destroy_into_raw() {
        const ptr = this.__wbg_ptr;
        this.__wbg_ptr = 0;
        WheelBufferFinalization.unregister(this);
        return ptr;
    }
    free() {
        const ptr = this.__destroy_into_raw();
        wasm.__wbg_wheelbuffer_free(ptr, 0);
    }
    /**
     * Zeroed room for `len` bytes, or a readable error when the memory cannot grow so far.
     * @param {number} len
     * @returns {WheelBuffer}
     */
    static alloc(len) {
        const ret = wasm.wheelbuffer_alloc(len);
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        return WheelBuffer.__wrap(ret[0]);
    }
    /**
     * How many bytes.
     * @returns {number}
     */
    get length() {
        const ret = wasm.wheelbuffer_length(this.__wbg_ptr);
        return ret >>> 0;
    }
    /**
     * Copies `chunk` in at `offset`.
     * @param {number} offset
     * @param {Uint8Array} chunk
     */
    set(offset, chunk) {
        const ptr0 = passArray8ToWasm0(chunk, wasm.__wbindgen_malloc);
        const len0 = WASM_VECTOR_LEN;
        const ret = wasm.wheelbuffer_set(this.__wbg_ptr, offset, ptr0, len0);
        if (ret[1]) {
            throw takeFromExternrefTable0(ret[0]);
        }
    }
}
if (Symbol.dispose) WheelBuffer.prototype[Symbol.dispose] = WheelBuffer.prototype.free;
exports.WheelBuffer = WheelBuffer;

/**
 * A wheel opened once (its bytes copied into the module's memory), for several questions.
 */
class WheelFile {
    static __wrap(ptr) {
        const obj = Object.create(WheelFile.prototype);
        obj.__wbg_ptr = ptr;
        WheelFileFinalization.register(obj, obj.__wbg_ptr, obj);
        return obj;
    }
    __destroy_into_raw() {
        const ptr = this.__wbg_ptr;
        this.__wbg_ptr = 0;
        WheelFileFinalization.unregister(this);
        return ptr;
    }
    free() {
        const ptr = this.__destroy_into_raw();
        wasm.__wbg_wheelfile_free(ptr, 0);
    }
    /**
     * The audit; `options` is `{plat, exclude, disable_isa_ext_check}`; `progress(membersScanned, members)`.
     * @param {any} options
     * @param {any} progress
     * @returns {AuditResult}
     */
    audit(options, progress) {
        const ret = wasm.wheelfile_audit(this.__wbg_ptr, options, progress);
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        return AuditResult.__wrap(ret[0]);
    }
    /**
     * The file name.
     * @returns {string}
     */
    get filename() {
        let deferred1_0;
        let deferred1_1;
        try {
            const ret = wasm.wheelfile_filename(this.__wbg_ptr);
            deferred1_0 = ret[0];
            deferred1_1 = ret[1];
            return getStringFromWasm0(ret[0], ret[1]);
        } finally {
            wasm.__wbindgen_free(deferred1_0, deferred1_1, 1);
        }
    }
    /**
     * Opens a wheel from a filled [`WheelBuffer`] (which it takes over).
     * @param {WheelBuffer} buf
     * @param {string} filename
     * @returns {WheelFile}
     */
    static fromBuffer(buf, filename) {
        _assertClass(buf, WheelBuffer);
        var ptr0 = buf.__destroy_into_raw();
        const ptr1 = passStringToWasm0(filename, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
        const len1 = WASM_VECTOR_LEN;
        const ret = wasm.wheelfile_fromBuffer(ptr0, ptr1, len1);
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        return WheelFile.__wrap(ret[0]);
    }
    /**
     * The inspect report (JSON text); `progress(bytesHashed, bytesTotal)`. `hasher`,
     * when given, makes the hashes: `(algorithm) => ({update(bytes), digest()})`, as
     * Node's `crypto.createHash` (see [`WheelFile::verify`]).
     * @param {any} progress
     * @param {any} hasher
     * @returns {string}
     */
    inspect(progress, hasher) {
        let deferred2_0;
        let deferred2_1;
        try {
            const ret = wasm.wheelfile_inspect(this.__wbg_ptr, progress, hasher);
            var ptr1 = ret[0];
            var len1 = ret[1];
            if (ret[3]) {
                ptr1 = 0; len1 = 0;
                throw takeFromExternrefTable0(ret[2]);
            }
            deferred2_0 = ptr1;
            deferred2_1 = len1;
            return getStringFromWasm0(ptr1, len1);
        } finally {
            wasm.__wbindgen_free(deferred2_0, deferred2_1, 1);
        }
    }
    /**
     * Opens a wheel from its bytes and file name.
     * @param {Uint8Array} bytes
     * @param {string} filename
     */
    constructor(bytes, filename) {
        const ptr0 = passArray8ToWasm0(bytes, wasm.__wbindgen_malloc);
        const len0 = WASM_VECTOR_LEN;
        const ptr1 = passStringToWasm0(filename, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
        const len1 = WASM_VECTOR_LEN;
        const ret = wasm.wheelfile_new(ptr0, len0, ptr1, len1);
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        this.__wbg_ptr = ret[0];
        WheelFileFinalization.register(this, this.__wbg_ptr, this);
        return this;
    }
    /**
     * Retags (see [`retag`]); `timestamp` (Unix seconds) fixes every member's time.
     * @param {any} tags
     * @param {number | null} [timestamp]
     * @returns {Retagged}
     */
    retag(tags, timestamp) {
        const ret = wasm.wheelfile_retag(this.__wbg_ptr, tags, !isLikeNone(timestamp), isLikeNone(timestamp) ? 0 : timestamp);
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        return Retagged.__wrap(ret[0]);
    }
    /**
     * [`verify`](Self::verify) and [`audit`](Self::audit) in one inflation of each
     * member, with their answers and errors in their order (the Action's call).
     * @param {any} options
     * @param {any} hasher
     * @returns {AuditResult}
     */
    verifyAndAudit(options, hasher) {
        const ret = wasm.wheelfile_verifyAndAudit(this.__wbg_ptr, options, hasher);
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        return AuditResult.__wrap(ret[0]);
    }
    /**
     * Checks every member against RECORD, as `inspect`, `retag` and `repair` do; throws
     * the CLI's sentence for the first problem (a damaged member, a hash that differs, a
     * member RECORD leaves out); `progress(bytesHashed, bytesTotal)`. `hasher`, when
     * given, makes the hashes in the host: `(algorithm) => ({update(bytes), digest()})`
     * for `sha256`, `sha384` or `sha512`. Node's `(a) => crypto.createHash(a)` hashes
     * natively, where the module's own SHA-256 runs at a fifth of the speed (jaxlib,
     * 397 MB inflated: 1.6 s of its 2.8 s verification).
     * @param {any} progress
     * @param {any} hasher
     */
    verify(progress, hasher) {
        const ret = wasm.wheelfile_verify(this.__wbg_ptr, progress, hasher);
        if (ret[1]) {
            throw takeFromExternrefTable0(ret[0]);
        }
    }
}
if (Symbol.dispose) WheelFile.prototype[Symbol.dispose] = WheelFile.prototype.free;
exports.WheelFile = WheelFile;

/**
 * `truewheel audit --json --wheel-only` of a wheel's bytes; `options` is
 * `{plat, exclude, disable_isa_ext_check}` (an object or its JSON text) or nothing.
 * @param {Uint8Array} bytes
 * @param {string} filename
 * @param {any} options
 * @returns {string}
 */
function audit(bytes, filename, options) {
    let deferred4_0;
    let deferred4_1;
    try {
        const ptr0 = passArray8ToWasm0(bytes, wasm.__wbindgen_malloc);
        const len0 = WASM_VECTOR_LEN;
        const ptr1 = passStringToWasm0(filename, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
        const len1 = WASM_VECTOR_LEN;
        const ret = wasm.audit(ptr0, len0, ptr1, len1, options);
        var ptr3 = ret[0];
        var len3 = ret[1];
        if (ret[3]) {
            ptr3 = 0; len3 = 0;
            throw takeFromExternrefTable0(ret[2]);
        }
        deferred4_0 = ptr3;
        deferred4_1 = len3;
        return getStringFromWasm0(ptr3, len3);
    } finally {
        wasm.__wbindgen_free(deferred4_0, deferred4_1, 1);
    }
}
exports.audit = audit;

/**
 * Throws the error opening a wheel of `size` bytes would give, when its first bytes
 * (`head`) and its last 64 KiB and 22 (`tail`) show it is no wheel, before it is read
 * whole (a large file that is no zip archive).
 * @param {Uint8Array} head
 * @param {Uint8Array} tail
 * @param {number} size
 * @param {string} filename
 */
function checkEnds(head, tail, size, filename) {
    const ptr0 = passArray8ToWasm0(head, wasm.__wbindgen_malloc);
    const len0 = WASM_VECTOR_LEN;
    const ptr1 = passArray8ToWasm0(tail, wasm.__wbindgen_malloc);
    const len1 = WASM_VECTOR_LEN;
    const ptr2 = passStringToWasm0(filename, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
    const len2 = WASM_VECTOR_LEN;
    const ret = wasm.checkEnds(ptr0, len0, ptr1, len1, size, ptr2, len2);
    if (ret[1]) {
        throw takeFromExternrefTable0(ret[0]);
    }
}
exports.checkEnds = checkEnds;

/**
 * Checks a policy name as `--plat` takes it (`manylinux_2_17_x86_64`), throwing the
 * error an audit with it would give for every wheel.
 * @param {string} plat
 */
function checkPolicy(plat) {
    const ptr0 = passStringToWasm0(plat, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
    const len0 = WASM_VECTOR_LEN;
    const ret = wasm.checkPolicy(ptr0, len0);
    if (ret[1]) {
        throw takeFromExternrefTable0(ret[0]);
    }
}
exports.checkPolicy = checkPolicy;

/**
 * `truewheel inspect --json` of a wheel's bytes.
 * @param {Uint8Array} bytes
 * @param {string} filename
 * @returns {string}
 */
function inspect(bytes, filename) {
    let deferred4_0;
    let deferred4_1;
    try {
        const ptr0 = passArray8ToWasm0(bytes, wasm.__wbindgen_malloc);
        const len0 = WASM_VECTOR_LEN;
        const ptr1 = passStringToWasm0(filename, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
        const len1 = WASM_VECTOR_LEN;
        const ret = wasm.inspect(ptr0, len0, ptr1, len1);
        var ptr3 = ret[0];
        var len3 = ret[1];
        if (ret[3]) {
            ptr3 = 0; len3 = 0;
            throw takeFromExternrefTable0(ret[2]);
        }
        deferred4_0 = ptr3;
        deferred4_1 = len3;
        return getStringFromWasm0(ptr3, len3);
    } finally {
        wasm.__wbindgen_free(deferred4_0, deferred4_1, 1);
    }
}
exports.inspect = inspect;

/**
 * `truewheel retag`: `tags` is `{python, abi, platform, build}`, each edit as the CLI's
 * (`T` replaces, `+T` adds, `-T` removes; a string or a list).
 * @param {Uint8Array} bytes
 * @param {string} filename
 * @param {any} tags
 * @returns {Retagged}
 */
function retag(bytes, filename, tags) {
    const ptr0 = passArray8ToWasm0(bytes, wasm.__wbindgen_malloc);
    const len0 = WASM_VECTOR_LEN;
    const ptr1 = passStringToWasm0(filename, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
    const len1 = WASM_VECTOR_LEN;
    const ret = wasm.retag(ptr0, len0, ptr1, len1, tags);
    if (ret[2]) {
        throw takeFromExternrefTable0(ret[1]);
    }
    return Retagged.__wrap(ret[0]);
}
exports.retag = retag;

/**
 * The version of truewheel this module was built from.
 * @returns {string}
 */
function version() {
    let deferred1_0;
    let deferred1_1;
    try {
        const ret = wasm.version();
        deferred1_0 = ret[0];
        deferred1_1 = ret[1];
        return getStringFromWasm0(ret[0], ret[1]);
    } finally {
        wasm.__wbindgen_free(deferred1_0, deferred1_1, 1);
    }
}
exports.version = version;
function __wbg_get_imports() {
    const import0 = {
        __proto__: null,
        __wbg___wbindgen_debug_string_4687d8d8c2017d52: function(arg0, arg1) {
            const ret = debugString(arg1);
            const ptr1 = passStringToWasm0(ret, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
            const len1 = WASM_VECTOR_LEN;
            getDataViewMemory0().setInt32(arg0 + 4 * 1, len1, true);
            getDataViewMemory0().setInt32(arg0 + 4 * 0, ptr1, true);
        },
        __wbg___wbindgen_is_function_1f9d30630b8b1d3d: function(arg0) {
            const ret = typeof(arg0) === 'function';
            return ret;
        },
        __wbg___wbindgen_is_null_e343b7d08827ba72: function(arg0) {
            const ret = arg0 === null;
            return ret;
        },
        __wbg___wbindgen_is_undefined_8865fb403f8fe9d8: function(arg0) {
            const ret = arg0 === undefined;
            return ret;
        },
        __wbg___wbindgen_string_get_0380ccaa2f57f0d9: function(arg0, arg1) {
            const obj = arg1;
            const ret = typeof(obj) === 'string' ? obj : undefined;
            var ptr1 = isLikeNone(ret) ? 0 : passStringToWasm0(ret, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
            var len1 = WASM_VECTOR_LEN;
            getDataViewMemory0().setInt32(arg0 + 4 * 1, len1, true);
            getDataViewMemory0().setInt32(arg0 + 4 * 0, ptr1, true);
        },
        __wbg___wbindgen_throw_41e9ee4f547fc59a: function(arg0, arg1) {
            throw new Error(getStringFromWasm0(arg0, arg1));
        },
        __wbg_call_1875a20c43a36133: function() { return handleError(function (arg0, arg1, arg2, arg3) {
            const ret = arg0.call(arg1, arg2, arg3);
            return ret;
        }, arguments); },
        __wbg_call_187d372bd5fdd4aa: function() { return handleError(function (arg0, arg1, arg2) {
            const ret = arg0.call(arg1, arg2);
            return ret;
        }, arguments); },
        __wbg_call_6137034ef55c9d0f: function() { return handleError(function (arg0, arg1) {
            const ret = arg0.call(arg1);
            return ret;
        }, arguments); },
        __wbg_get_31af05bd4842a84f: function() { return handleError(function (arg0, arg1) {
            const ret = Reflect.get(arg0, arg1);
            return ret;
        }, arguments); },
        __wbg_length_7f3c00c40364105e: function(arg0) {
            const ret = arg0.length;
            return ret;
        },
        __wbg_new_1dbf7428bba60a42: function(arg0) {
            const ret = new Uint8Array(arg0);
            return ret;
        },
        __wbg_new_343a093a3c2ffb4e: function(arg0, arg1) {
            const ret = new Error(getStringFromWasm0(arg0, arg1));
            return ret;
        },
        __wbg_new_from_slice_9a868026ffa4208a: function(arg0, arg1) {
            const ret = new Uint8Array(getArrayU8FromWasm0(arg0, arg1));
            return ret;
        },
        __wbg_prototypesetcall_bc27214492979395: function(arg0, arg1, arg2) {
            Uint8Array.prototype.set.call(getArrayU8FromWasm0(arg0, arg1), arg2);
        },
        __wbg_set_145a351398b48c65: function() { return handleError(function (arg0, arg1, arg2) {
            const ret = Reflect.set(arg0, arg1, arg2);
            return ret;
        }, arguments); },
        __wbg_stringify_52ff602c1cc4fbb6: function() { return handleError(function (arg0) {
            const ret = JSON.stringify(arg0);
            return ret;
        }, arguments); },
        __wbindgen_generic_0000000000000001: function(arg0) {
            // Cast intrinsic for `F64 -> Externref`.
            const ret = arg0;
            return ret;
        },
        __wbindgen_generic_0000000000000002: function(arg0, arg1) {
            // Cast intrinsic for `Ref(String) -> Externref`.
            const ret = getStringFromWasm0(arg0, arg1);
            return ret;
        },
        __wbindgen_init_externref_table: function() {
            const table = wasm.__wbindgen_externrefs;
            const offset = table.grow(4);
            table.set(0, undefined);
            table.set(offset + 0, undefined);
            table.set(offset + 1, null);
            table.set(offset + 2, true);
            table.set(offset + 3, false);
        },
    };
    return {
        __proto__: null,
        "./truewheel_wasm_bg.js": import0,
    };
}

const AuditResultFinalization = (typeof FinalizationRegistry === 'undefined')
    ? { register: () => {}, unregister: () => {} }
    : new FinalizationRegistry(ptr => wasm.__wbg_auditresult_free(ptr, 1));
const RetaggedFinalization = (typeof FinalizationRegistry === 'undefined')
    ? { register: () => {}, unregister: () => {} }
    : new FinalizationRegistry(ptr => wasm.__wbg_retagged_free(ptr, 1));
const WheelBufferFinalization = (typeof FinalizationRegistry === 'undefined')
    ? { register: () => {}, unregister: () => {} }
    : new FinalizationRegistry(ptr => wasm.__wbg_wheelbuffer_free(ptr, 1));
const WheelFileFinalization = (typeof FinalizationRegistry === 'undefined')
    ? { register: () => {}, unregister: () => {} }
    : new FinalizationRegistry(ptr => wasm.__wbg_wheelfile_free(ptr, 1));

function addToExternrefTable0(obj) {
    const idx = wasm.__externref_table_alloc();
    wasm.__wbindgen_externrefs.set(idx, obj);
    return idx;
}

function _assertClass(instance, klass) {
    if (!(instance instanceof klass)) {
        throw new Error(`expected instance of ${klass.name}`);
    }
}

function debugString(val) {
    // primitive types
    const type = typeof val;
    if (type == 'number' || type == 'boolean' || val == null) {
        return  `${val}`;
    }
    if (type == 'string') {
        return `"${val}"`;
    }
    if (type == 'symbol') {
        const description = val.description;
        if (description == null) {
            return 'Symbol';
        } else {
            return `Symbol(${description})`;
        }
    }
    if (type == 'function') {
        const name = val.name;
        if (typeof name == 'string' && name.length > 0) {
            return `Function(${name})`;
        } else {
            return 'Function';
        }
    }
    // objects
    if (Array.isArray(val)) {
        const length = val.length;
        let debug = '[';
        if (length > 0) {
            debug += debugString(val[0]);
        }
        for(let i = 1; i < length; i++) {
            debug += ', ' + debugString(val[i]);
        }
        debug += ']';
        return debug;
    }
    // Test for built-in
    const builtInMatches = /\[object ([^\]]+)\]/.exec(toString.call(val));
    let className;
    if (builtInMatches && builtInMatches.length > 1) {
        className = builtInMatches[1];
    } else {
        // Failed to match the standard '[object ClassName]'
        return toString.call(val);
    }
    if (className == 'Object') {
        // we're a user defined class or Object
        // JSON.stringify avoids problems with cycles, and is generally much
        // easier than looping through ownProperties of `val`.
        try {
            return 'Object(' + JSON.stringify(val) + ')';
        } catch (_) {
            return 'Object';
        }
    }
    // errors
    if (val instanceof Error) {
        return `${val.name}: ${val.message}\n${val.stack}`;
    }
    // TODO we could test for more things here, like `Set`s and `Map`s.
    return className;
}

function getArrayJsValueFromWasm0(ptr, len) {
    ptr = ptr >>> 0;
    const mem = getDataViewMemory0();
    const result = [];
    for (let i = ptr; i < ptr + 4 * len; i += 4) {
        result.push(wasm.__wbindgen_externrefs.get(mem.getUint32(i, true)));
    }
    wasm.__externref_drop_slice(ptr, len);
    return result;
}

function getArrayU8FromWasm0(ptr, len) {
    ptr = ptr >>> 0;
    return getUint8ArrayMemory0().subarray(ptr / 1, ptr / 1 + len);
}

let cachedDataViewMemory0 = null;
function getDataViewMemory0() {
    if (cachedDataViewMemory0 === null || cachedDataViewMemory0.buffer.detached === true || (cachedDataViewMemory0.buffer.detached === undefined && cachedDataViewMemory0.buffer !== wasm.memory.buffer)) {
        cachedDataViewMemory0 = new DataView(wasm.memory.buffer);
    }
    return cachedDataViewMemory0;
}

function getStringFromWasm0(ptr, len) {
    return decodeText(ptr >>> 0, len);
}

let cachedUint8ArrayMemory0 = null;
function getUint8ArrayMemory0() {
    if (cachedUint8ArrayMemory0 === null || cachedUint8ArrayMemory0.byteLength === 0) {
        cachedUint8ArrayMemory0 = new Uint8Array(wasm.memory.buffer);
    }
    return cachedUint8ArrayMemory0;
}

function handleError(f, args) {
    try {
        return f.apply(this, args);
    } catch (e) {
        const idx = addToExternrefTable0(e);
        wasm.__wbindgen_exn_store(idx);
    }
}

function isLikeNone(x) {
    return x === undefined || x === null;
}

function passArray8ToWasm0(arg, malloc) {
    const ptr = malloc(arg.length * 1, 1) >>> 0;
    getUint8ArrayMemory0().set(arg, ptr / 1);
    WASM_VECTOR_LEN = arg.length;
    return ptr;
}

function passArrayJsValueToWasm0(array, malloc) {
    const ptr = malloc(array.length * 4, 4) >>> 0;
    for (let i = 0; i < array.length; i++) {
        const add = addToExternrefTable0(array[i]);
        getDataViewMemory0().setUint32(ptr + 4 * i, add, true);
    }
    WASM_VECTOR_LEN = array.length;
    return ptr;
}

function passStringToWasm0(arg, malloc, realloc) {
    if (realloc === undefined) {
        const buf = cachedTextEncoder.encode(arg);
        const ptr = malloc(buf.length, 1) >>> 0;
        getUint8ArrayMemory0().subarray(ptr, ptr + buf.length).set(buf);
        WASM_VECTOR_LEN = buf.length;
        return ptr;
    }

    let len = arg.length;
    let ptr = malloc(len, 1) >>> 0;

    const mem = getUint8ArrayMemory0();

    let offset = 0;

    for (; offset < len; offset++) {
        const code = arg.charCodeAt(offset);
        if (code > 0x7F) break;
        mem[ptr + offset] = code;
    }
    if (offset !== len) {
        if (offset !== 0) {
            arg = arg.slice(offset);
        }
        ptr = realloc(ptr, len, len = offset + arg.length * 3, 1) >>> 0;
        const view = getUint8ArrayMemory0().subarray(ptr + offset, ptr + len);
        const ret = cachedTextEncoder.encodeInto(arg, view);

        offset += ret.written;
        ptr = realloc(ptr, len, offset, 1) >>> 0;
    }

    WASM_VECTOR_LEN = offset;
    return ptr;
}

function takeFromExternrefTable0(idx) {
    const value = wasm.__wbindgen_externrefs.get(idx);
    wasm.__externref_table_dealloc(idx);
    return value;
}

let cachedTextDecoder = new TextDecoder('utf-8', { ignoreBOM: true, fatal: true });
cachedTextDecoder.decode();
function decodeText(ptr, len) {
    return cachedTextDecoder.decode(getUint8ArrayMemory0().subarray(ptr, ptr + len));
}

const cachedTextEncoder = new TextEncoder();

if (!('encodeInto' in cachedTextEncoder)) {
    cachedTextEncoder.encodeInto = function (arg, view) {
        const buf = cachedTextEncoder.encode(arg);
        view.set(buf);
        return {
            read: arg.length,
            written: buf.length
        };
    };
}

let WASM_VECTOR_LEN = 0;

const wasmPath = `${__dirname}/truewheel_wasm_bg.wasm`;
const wasmBytes = require('fs').readFileSync(wasmPath);
const wasmModule = new WebAssembly.Module(wasmBytes);
let wasmInstance = new WebAssembly.Instance(wasmModule, __wbg_get_imports());
let wasm = wasmInstance.exports;
wasm.__wbindgen_start();
