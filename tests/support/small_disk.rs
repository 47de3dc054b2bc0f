//! A directory made full: a small tmpfs mounted over it (the tests run as root), for the
//! failures of a full disk.

/// A small tmpfs mounted over a directory, for as long as it lives.
pub struct SmallDisk(std::path::PathBuf);

impl SmallDisk {
    /// Mounts a tmpfs over `dir` that holds what `dir` held, then fills it up.
    pub fn full_over(dir: &std::path::Path) -> Self {
        let saved: Vec<(std::ffi::OsString, Vec<u8>)> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (e.file_name(), std::fs::read(e.path()).unwrap())
            })
            .collect();
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=256k,mode=700", "tmpfs"])
            .arg(dir)
            .status()
            .expect("mount runs");
        assert!(
            mounted.success(),
            "cannot mount a tmpfs (the tests run as root)"
        );
        let disk = Self(dir.to_owned());
        for (name, bytes) in saved {
            std::fs::write(dir.join(name), bytes).unwrap();
        }
        let mut filler = std::fs::File::create(dir.join(".filler")).unwrap();
        let block = vec![0u8; 4096];
        while std::io::Write::write_all(&mut filler, &block).is_ok() {}
        disk
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}
