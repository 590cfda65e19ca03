//! Interoperability with numpy itself, when a `python3` with numpy is on the PATH (otherwise the
//! test prints "skipped: numpy not available" and passes).
//!
//! Our writer → `np.load` → numpy re-saves the same arrays in Fortran order, with a version 2.0
//! header and as `np.savez_compressed` → our reader, compared bit for bit with the originals.
//! numpy also writes the dtypes we only read (`|i1 <u2 <i4 …`) and loads our CSV.

use super::npy::same;
use super::scratch;
use neurodyn::io::{
    Array, ArrayData, CsvTable, read_npy, read_npz, write_csv, write_npy, write_npz,
};
use std::process::Command;

const SCRIPT: &str = r#"
import sys, os, numpy as np
d = sys.argv[1]
names = ["f64", "f32", "i64", "u64", "bool", "scalar", "empty", "cube"]
arrays = {n: np.load(os.path.join(d, n + ".npy")) for n in names}
assert arrays["f64"].dtype == np.float64 and arrays["f64"].shape == (3, 4), arrays["f64"]
assert arrays["f32"].dtype == np.float32 and arrays["bool"].dtype == np.bool_
assert arrays["i64"].dtype == np.int64 and arrays["u64"].dtype == np.uint64
assert arrays["scalar"].shape == () and arrays["empty"].shape == (0, 3)
assert arrays["cube"].shape == (2, 3, 4) and arrays["cube"][1, 2, 3] == 23.0
with np.load(os.path.join(d, "ours.npz")) as z:
    assert sorted(z.files) == sorted(names), z.files
    for n in names:
        assert z[n].dtype == arrays[n].dtype and z[n].shape == arrays[n].shape
        assert z[n].tobytes() == arrays[n].tobytes(), n
for n, a in arrays.items():
    # asfortranarray makes 0-d arrays 1-d, so leave those as they are.
    np.save(os.path.join(d, "py_f_" + n + ".npy"), np.asfortranarray(a) if a.ndim else a)
    with open(os.path.join(d, "py_v2_" + n + ".npy"), "wb") as f:
        np.lib.format.write_array(f, a, version=(2, 0))
np.savez_compressed(os.path.join(d, "py_compressed.npz"), **arrays)
np.savez(os.path.join(d, "py_stored.npz"), **arrays)
assert np.isfortran(np.load(os.path.join(d, "py_f_cube.npy")))
narrow = {
    "i1": np.arange(-3, 3, dtype=np.int8), "u1": np.arange(250, 256, dtype=np.uint8),
    "i2": np.arange(-3, 3, dtype=np.int16) * 1000, "u2": np.arange(6, dtype=np.uint16) * 10000,
    "i4": np.arange(-3, 3, dtype=np.int32) * 100000, "u4": np.arange(6, dtype=np.uint32) * 700000000,
}
for n, a in narrow.items():
    np.save(os.path.join(d, "py_" + n + ".npy"), a.reshape(2, 3))
np.save(os.path.join(d, "py_big.npy"), np.arange(3, dtype=">f8"))
t = np.loadtxt(os.path.join(d, "ours.csv"), delimiter=",", skiprows=1)
np.save(os.path.join(d, "py_csv.npy"), t)
print("numpy", np.__version__, "ok")
"#;

fn numpy_available() -> bool {
    Command::new("python3")
        .args(["-c", "import numpy"])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn originals() -> Vec<(&'static str, Array)> {
    let a = |shape: Vec<usize>, data| Array::new(shape, data).unwrap();
    let f: Vec<f64> = (0..12).map(|i| (i as f64 - 5.5) * 0.1).collect();
    vec![
        ("f64", a(vec![3, 4], ArrayData::F64(f.clone()))),
        (
            "f32",
            a(
                vec![4, 3],
                ArrayData::F32(f.iter().map(|&x| x as f32).collect()),
            ),
        ),
        (
            "i64",
            a(vec![2, 2], ArrayData::I64(vec![i64::MIN, -1, 0, i64::MAX])),
        ),
        ("u64", a(vec![3], ArrayData::U64(vec![0, 1, u64::MAX]))),
        (
            "bool",
            a(
                vec![2, 3],
                ArrayData::Bool(vec![true, false, true, true, false, false]),
            ),
        ),
        ("scalar", a(vec![], ArrayData::F64(vec![f64::NAN]))),
        ("empty", a(vec![0, 3], ArrayData::F64(vec![]))),
        (
            "cube",
            a(
                vec![2, 3, 4],
                ArrayData::F64((0..24).map(f64::from).collect()),
            ),
        ),
    ]
}

#[test]
fn numpy_reads_ours_and_we_read_numpys() {
    if !numpy_available() {
        println!("skipped: numpy not available (python3 -c 'import numpy' failed)");
        return;
    }
    let dir = scratch("numpy-interop");
    let arrays = originals();
    for (n, a) in &arrays {
        write_npy(dir.join(format!("{n}.npy")), a).unwrap();
    }
    let pairs: Vec<(&str, &Array)> = arrays.iter().map(|(n, a)| (*n, a)).collect();
    write_npz(dir.join("ours.npz"), &pairs).unwrap();
    let table = CsvTable {
        names: Some(vec!["t".into(), "x".into()]),
        rows: 3,
        cols: 2,
        data: vec![0.0, 0.1, 1.0, -1e-300, 2.0, 1.7976931348623157e308],
    };
    write_csv(dir.join("ours.csv"), &table).unwrap();

    let out = Command::new("python3")
        .args(["-c", SCRIPT])
        .arg(&dir)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "numpy rejected our files:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{}", String::from_utf8_lossy(&out.stdout).trim());

    for (n, a) in &arrays {
        for prefix in ["py_f_", "py_v2_"] {
            let b = read_npy(dir.join(format!("{prefix}{n}.npy"))).unwrap();
            assert!(same(a, &b), "{prefix}{n}: {b:?}");
        }
    }
    for file in ["py_compressed.npz", "py_stored.npz"] {
        let npz = read_npz(dir.join(file)).unwrap();
        for (n, a) in &arrays {
            assert!(same(a, npz.get(n).unwrap()), "{file} {n}");
        }
    }
    let narrow: [(&str, ArrayData); 6] = [
        ("i1", ArrayData::I64((-3..3).collect())),
        ("u1", ArrayData::U64((250..256).collect())),
        ("i2", ArrayData::I64((-3..3).map(|x| x * 1000).collect())),
        ("u2", ArrayData::U64((0..6).map(|x| x * 10000).collect())),
        ("i4", ArrayData::I64((-3..3).map(|x| x * 100_000).collect())),
        (
            "u4",
            ArrayData::U64((0..6).map(|x| x * 700_000_000).collect()),
        ),
    ];
    for (n, want) in narrow {
        let b = read_npy(dir.join(format!("py_{n}.npy"))).unwrap();
        assert_eq!((b.shape, b.data), (vec![2, 3], want), "{n}");
    }
    let e = read_npy(dir.join("py_big.npy")).unwrap_err();
    assert!(e.message.contains("astype('<f8')"), "{e}");
    let csv = read_npy(dir.join("py_csv.npy")).unwrap();
    assert_eq!(
        (csv.shape.clone(), csv.to_f64_vec()),
        (vec![3, 2], table.data)
    );
}
