//! Huffman code lengths for a block's symbol counts, limited to deflate's maximum code
//! length, and the canonical codes they give. The lengths come from Moffat and
//! Katajainen's in-place minimum-redundancy algorithm on the counts sorted; when a
//! length passes the limit, the longest codes are folded up and others split until the
//! lengths again fill the code space exactly (as miniz does): not always optimal, but
//! only rare blocks need it, and then it costs a few bits.

/// The longest code deflate allows for literals, lengths and distances.
pub(super) const MAX_BITS: u32 = 15;

/// Code lengths for symbols counted `freq` times, none longer than `max` bits, into
/// `lens` (0 for a symbol never used). Two or more used symbols give a complete code;
/// one gets a 1-bit code.
pub(super) fn lengths(freq: &[u32], max: u32, lens: &mut [u8]) {
    debug_assert!(lens.len() >= freq.len() && (1..=MAX_BITS).contains(&max));
    lens.fill(0);
    // (count, symbol), rarest first; the symbol breaks ties so that the result does
    // not depend on the sort.
    let mut used: Vec<(u32, u16)> = (0u16..)
        .zip(freq)
        .filter(|&(_, &f)| f > 0)
        .map(|(s, &f)| (f, s))
        .collect();
    match used.len() {
        0 => return,
        1 => {
            lens[usize::from(used[0].1)] = 1;
            return;
        }
        _ => {}
    }
    used.sort_unstable();
    let mut depth: Vec<u32> = used.iter().map(|&(f, _)| f).collect();
    minimum_redundancy(&mut depth);
    // How many codes have each length; anything past `max` counts as `max` for now.
    let mut count = [0u32; MAX_BITS as usize + 1];
    for &d in &depth {
        count[d.min(max) as usize] += 1;
    }
    fit(&mut count, max);
    // The rarest symbols take the longest codes.
    let mut rarest = used.iter();
    for len in (1..=max).rev() {
        for _ in 0..count[len as usize] {
            let &(_, sym) = rarest.next().expect("as many lengths as symbols");
            lens[usize::from(sym)] = len as u8;
        }
    }
}

/// Moffat and Katajainen's in-place calculation: `a` holds counts in ascending order
/// and, on return, the depth of each in an optimal code tree. `a.len() >= 2`.
fn minimum_redundancy(a: &mut [u32]) {
    let n = a.len();
    // First pass, left to right: pair the two lightest of leaves and internal nodes;
    // an internal node's slot then holds its parent's index.
    a[0] += a[1];
    let (mut root, mut leaf) = (0usize, 2usize);
    for next in 1..n - 1 {
        if leaf >= n || a[root] < a[leaf] {
            a[next] = a[root];
            a[root] = next as u32;
            root += 1;
        } else {
            a[next] = a[leaf];
            leaf += 1;
        }
        if leaf >= n || (root < next && a[root] < a[leaf]) {
            a[next] += a[root];
            a[root] = next as u32;
            root += 1;
        } else {
            a[next] += a[leaf];
            leaf += 1;
        }
    }
    // Second pass, right to left: internal nodes' depths.
    a[n - 2] = 0;
    for next in (0..n - 2).rev() {
        a[next] = a[a[next] as usize] + 1;
    }
    // Third pass, right to left: leaves' depths.
    let (mut avail, mut used, mut depth) = (1u32, 0u32, 0u32);
    let (mut root, mut next) = (n as isize - 2, n as isize - 1);
    while avail > 0 {
        while root >= 0 && a[root as usize] == depth {
            used += 1;
            root -= 1;
        }
        while avail > used {
            a[next as usize] = depth;
            next -= 1;
            avail -= 1;
        }
        avail = 2 * used;
        depth += 1;
        used = 0;
    }
}

/// Makes per-length counts whose codes overflow `max` (already counted at `max`) fill
/// the code space exactly again: each round takes one code of length `max` away and
/// splits the longest shorter code in two, which frees one unit of `2^-max`.
fn fit(count: &mut [u32; MAX_BITS as usize + 1], max: u32) {
    let max = max as usize;
    let full = 1u64 << max;
    let mut total: u64 = (1..=max).map(|l| u64::from(count[l]) << (max - l)).sum();
    while total > full {
        count[max] -= 1;
        if let Some(l) = (1..max).rev().find(|&l| count[l] != 0) {
            count[l] -= 1;
            count[l + 1] += 2;
        }
        total -= 1;
    }
}

/// Canonical codes for `lens`, bit-reversed for deflate's least-significant-first
/// packing, into `codes`.
pub(super) fn canonical(lens: &[u8], codes: &mut [u16]) {
    let mut count = [0u16; MAX_BITS as usize + 2];
    for &l in lens {
        count[usize::from(l)] += 1;
    }
    count[0] = 0;
    let mut next = [0u16; MAX_BITS as usize + 2];
    let mut code = 0u16;
    for bits in 1..=MAX_BITS as usize {
        code = (code + count[bits - 1]) << 1;
        next[bits] = code;
    }
    for (&l, c) in lens.iter().zip(codes.iter_mut()) {
        if l > 0 {
            let k = &mut next[usize::from(l)];
            *c = k.reverse_bits() >> (16 - u32::from(l));
            *k += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cost, in bits, of an optimal unlimited code for `freq`, by merging the two
    /// lightest weights with a heap.
    fn optimal_cost(freq: &[u32]) -> u64 {
        use std::cmp::Reverse;
        use std::collections::BinaryHeap;
        let mut h: BinaryHeap<Reverse<u64>> = freq
            .iter()
            .filter(|&&f| f > 0)
            .map(|&f| Reverse(u64::from(f)))
            .collect();
        let mut cost = 0;
        while h.len() > 1 {
            let (Reverse(a), Reverse(b)) = (h.pop().unwrap(), h.pop().unwrap());
            cost += a + b;
            h.push(Reverse(a + b));
        }
        cost
    }

    fn kraft(lens: &[u8], max: u32) -> u64 {
        lens.iter()
            .filter(|&&l| l > 0)
            .map(|&l| 1u64 << (max - u32::from(l)))
            .sum()
    }

    fn counts(seed: u32, n: usize, skew: u32) -> Vec<u32> {
        let mut x = seed | 1;
        (0..n)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                match x % 5 {
                    0 => 0,
                    _ => (x % 1000) >> (i as u32 % skew),
                }
            })
            .collect()
    }

    #[test]
    fn unlimited_lengths_are_optimal_and_complete() {
        for seed in 1..200 {
            let freq = counts(seed, 286, 3);
            let mut lens = vec![0u8; freq.len()];
            lengths(&freq, 15, &mut lens);
            let cost: u64 = freq
                .iter()
                .zip(&lens)
                .map(|(&f, &l)| u64::from(f) * u64::from(l))
                .sum();
            if lens.iter().all(|&l| u32::from(l) < 15) {
                assert_eq!(cost, optimal_cost(&freq), "seed {seed}");
            }
            assert_eq!(kraft(&lens, 15), 1 << 15, "seed {seed}");
            for (&f, &l) in freq.iter().zip(&lens) {
                assert_eq!(f == 0, l == 0);
            }
        }
    }

    #[test]
    fn limited_lengths_fit_and_fill_the_code_space() {
        // Fibonacci counts make the deepest possible trees.
        let mut fib = vec![1u32, 1];
        while fib.len() < 30 {
            fib.push(fib[fib.len() - 1] + fib[fib.len() - 2]);
        }
        for max in [7, 9, 15] {
            for freq in [fib.clone(), counts(7, 19, 12), counts(9, 286, 12)] {
                let mut lens = vec![0u8; freq.len()];
                lengths(&freq, max, &mut lens);
                assert!(lens.iter().all(|&l| u32::from(l) <= max));
                assert_eq!(kraft(&lens, max), 1 << max, "max {max}");
                // A rarer symbol never has a shorter code than a commoner one.
                for (i, j) in (0..freq.len()).flat_map(|i| (0..freq.len()).map(move |j| (i, j))) {
                    if freq[i] > 0 && freq[j] > freq[i] {
                        assert!(lens[j] <= lens[i]);
                    }
                }
            }
        }
    }

    #[test]
    fn one_symbol_gets_one_bit_and_none_get_nothing() {
        let mut lens = [9u8; 5];
        lengths(&[0, 0, 4, 0, 0], 15, &mut lens);
        assert_eq!(lens, [0, 0, 1, 0, 0]);
        lengths(&[0; 5], 15, &mut lens);
        assert_eq!(lens, [0; 5]);
    }

    #[test]
    fn canonical_codes_follow_rfc_1951() {
        // The example of RFC 1951 section 3.2.2: lengths (3, 3, 3, 3, 3, 2, 4, 4)
        // give codes 010, 011, 100, 101, 110, 00, 1110, 1111.
        let lens = [3, 3, 3, 3, 3, 2, 4, 4];
        let mut codes = [0u16; 8];
        canonical(&lens, &mut codes);
        let want: [u16; 8] = [0b010, 0b011, 0b100, 0b101, 0b110, 0b00, 0b1110, 0b1111];
        for i in 0..8 {
            let rev = want[i].reverse_bits() >> (16 - u32::from(lens[i]));
            assert_eq!(codes[i], rev, "symbol {i}");
        }
    }
}
