//! Directories held open for `*at` system calls: a tree audit stats, opens and lists files by
//! name relative to their directory, so the kernel resolves one path component per call
//! instead of the whole path (the audit of a stdlib tree makes thousands of such calls).

use std::ffi::{CStr, CString, OsStr};
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, Dir, FileType, Mode, OFlags, StatxFlags};

use crate::load::SourceStamp;

/// An open directory and its path (for reports).
pub struct OpenDir {
    /// The directory's path as the audit reached it.
    pub path: PathBuf,
    /// The descriptor, wrapped for listing; `*at` calls borrow its descriptor.
    dir: Dir,
}

/// What kind of entry a directory listing found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A directory (not a symbolic link to one: walks do not follow those).
    Dir,
    /// A regular file, or a symbolic link to one.
    File,
    /// Anything else (devices, sockets, dangling links, links to directories).
    Other,
}

impl OpenDir {
    /// Opens `path` for listing and for `*at` calls.
    pub fn open(path: &Path) -> io::Result<OpenDir> {
        Self::open_with(path, OFlags::RDONLY)
    }

    /// Opens `path` for `*at` calls only (`O_PATH`: no read permission needed, as for a
    /// lookup through the full path).
    pub fn open_for_lookup(path: &Path) -> io::Result<OpenDir> {
        Self::open_with(path, OFlags::PATH)
    }

    fn open_with(path: &Path, flags: OFlags) -> io::Result<OpenDir> {
        let at = if path.as_os_str().is_empty() {
            Path::new(".")
        } else {
            path
        };
        let fd = rustix::fs::open(
            at,
            flags | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        Self::new(path.to_owned(), fd)
    }

    fn new(path: PathBuf, fd: OwnedFd) -> io::Result<OpenDir> {
        Ok(OpenDir {
            path,
            dir: Dir::new(fd)?,
        })
    }

    fn fd(&self) -> BorrowedFd<'_> {
        // Only `*at` calls use it, which do not depend on the listing's position.
        self.dir
            .fd()
            .unwrap_or_else(|_| unreachable!("a Dir always has a descriptor"))
    }

    /// The subdirectory `name`, opened for listing.
    pub fn subdir(&self, name: &CStr) -> io::Result<OpenDir> {
        let fd = rustix::fs::openat(
            self.fd(),
            name,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC | OFlags::NOFOLLOW,
            Mode::empty(),
        )?;
        Self::new(self.join(name), fd)
    }

    /// The path of entry `name`.
    pub fn join(&self, name: &CStr) -> PathBuf {
        self.path.join(OsStr::from_bytes(name.to_bytes()))
    }

    /// Every entry but `.` and `..`, with its kind (symbolic links resolved to their target's
    /// kind, except links to directories).
    pub fn list(&mut self) -> io::Result<Vec<(CString, Kind)>> {
        let mut listed = Vec::new();
        while let Some(entry) = self.dir.read() {
            let entry = entry?;
            listed.push((entry.file_name().to_owned(), entry.file_type()));
        }
        let mut entries = Vec::with_capacity(listed.len());
        for (name, file_type) in listed {
            if matches!(name.to_bytes(), b"." | b"..") {
                continue;
            }
            let kind = match file_type {
                FileType::Directory => Kind::Dir,
                FileType::RegularFile => Kind::File,
                FileType::Symlink => self.followed_kind(&name),
                FileType::Unknown => match self.statx(&name, AtFlags::SYMLINK_NOFOLLOW) {
                    Ok(FileType::Directory) => Kind::Dir,
                    Ok(FileType::RegularFile) => Kind::File,
                    Ok(FileType::Symlink) => self.followed_kind(&name),
                    _ => Kind::Other,
                },
                _ => Kind::Other,
            };
            entries.push((name, kind));
        }
        Ok(entries)
    }

    fn followed_kind(&self, name: &CStr) -> Kind {
        match self.statx(name, AtFlags::empty()) {
            Ok(FileType::RegularFile) => Kind::File,
            _ => Kind::Other,
        }
    }

    fn statx(&self, name: &CStr, flags: AtFlags) -> io::Result<FileType> {
        let stat = rustix::fs::statx(self.fd(), name, flags, StatxFlags::TYPE)?;
        Ok(FileType::from_raw_mode(stat.stx_mode.into()))
    }

    /// Whether `name` exists (following symbolic links).
    pub fn exists(&self, name: &CStr) -> bool {
        self.statx(name, AtFlags::empty()).is_ok()
    }

    /// The stamp (`st_mtime`, `st_size`) of file `name`, as importlib reads it.
    pub fn stamp(&self, name: &CStr) -> io::Result<SourceStamp> {
        let flags = StatxFlags::MTIME | StatxFlags::SIZE;
        let stat = rustix::fs::statx(self.fd(), name, AtFlags::empty(), flags)?;
        Ok(SourceStamp::new(
            stat.stx_mtime.tv_sec,
            stat.stx_mtime.tv_nsec.into(),
            stat.stx_size,
        ))
    }

    /// Reads file `name` into `buf`, returning the part read. The buffer only grows, so an
    /// audit allocates (and zeroes) memory once per thread rather than once per file.
    ///
    /// A file smaller than the buffer costs one `read`: a regular file reads short only at its
    /// end, so no `fstat` is needed to size it. A file that fills the buffer is stat'ed: only a
    /// regular file is read further, to the size the stat announced (a file that shrank since
    /// is read short, as by importlib's single read).
    pub fn read<'b>(&self, name: &CStr, buf: &'b mut Vec<u8>) -> io::Result<&'b [u8]> {
        // Non-blocking, so that a FIFO given a cache's name cannot hang the audit.
        let fd = rustix::fs::openat(
            self.fd(),
            name,
            OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NONBLOCK,
            Mode::empty(),
        )?;
        let mut file = File::from(fd);
        let mut filled = read_into(&mut file, buf)?;
        if filled < buf.len() {
            return Ok(&buf[..filled]);
        }
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a regular file",
            ));
        }
        let len = usize::try_from(meta.len()).unwrap_or(usize::MAX);
        if buf.len() < len {
            buf.try_reserve(len - buf.len())
                .map_err(|_| io::Error::from(io::ErrorKind::OutOfMemory))?;
            buf.resize(len, 0);
        }
        while filled < len {
            match read_into(&mut file, &mut buf[filled..len])? {
                0 => break,
                n => filled += n,
            }
        }
        Ok(&buf[..filled])
    }
}

/// One `read` into `buf` (retried when interrupted): the number of bytes read.
fn read_into(file: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match file.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            result => return result,
        }
    }
}
