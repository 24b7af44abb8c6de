package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	pkgsftp "github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/paramigo/paramigo"
)

// The SFTP section copies files with every SFTP client at hand, against
// sshd (its stock sftp-server) and `paramigo serve`: on loopback, through
// the delay relay, a tree of small files, and a large file for the
// clients' peak memory. Every client, the libraries included, runs as a
// child process timed from fork to exit, so its CPU and peak RSS are its
// own and the bench's process (the relay) shares nothing with it.

// sftpCipher is forced on every client but paramiko, which has no AES-GCM:
// the rows compare SFTP implementations, not ciphers.
const sftpCipher = "aes128-gcm@openssh.com"

// pkgSFTPPacket is pkg/sftp's READ and WRITE size: OpenSSH's sftp-server
// takes messages up to 256 KiB and announces reads of 255 KiB
// (limits@openssh.com, which pkg/sftp does not ask for), and pkg/sftp's
// docs allow more than 32 KiB against a known server. Its best here.
const pkgSFTPPacket = 255 << 10

// sftpRow is one client → server pair of the SFTP section: a tputRow, so
// measure interleaves it with the others, and what only SFTP rows have.
type sftpRow struct {
	*tputRow
	op   string  // "get" or "put"
	tree bool    // copies the tree of small files
	rss  []int64 // the client's peak RSS per transfer, bytes
	// summed: a full-size copy was checked byte for byte (SHA-256) once.
	summed bool
}

// sftpSource is what a row copies: one file, or a tree of them.
type sftpSource struct {
	path  string
	size  int64 // bytes, all files together
	files int
	sum   [32]byte
	// sparse: a file of holes, checked by size only.
	sparse bool
}

// sftpData is the directory the section copies within: on tmpfs when it
// has room, so neither end waits on a disk; both ends see the same
// paths (sshd and `paramigo serve`, rooted here, run on this machine).
type sftpData struct {
	dir    string
	tmpfs  bool
	getDir string // local destinations of gets
	putDir string // remote destinations of puts, the session account's
}

// newSFTPData makes the directory: on /dev/shm when it and the memory
// left have room for need bytes (and 4 GiB to spare for the machine's
// other work), else under the bench's temporary directory.
func (b *bench) newSFTPData(need int64) (*sftpData, error) {
	d := &sftpData{}
	parent := b.tmp
	var st syscall.Statfs_t
	if syscall.Statfs("/dev/shm", &st) == nil && st.Type == 0x01021994 /* TMPFS_MAGIC */ &&
		int64(st.Bavail)*st.Bsize >= need && memAvailable() >= need+4<<30 {
		parent, d.tmpfs = "/dev/shm", true
	}
	dir, err := os.MkdirTemp(parent, "paramigo-bench-sftp-")
	if err != nil {
		return nil, err
	}
	if dir, err = filepath.EvalSymlinks(dir); err != nil {
		return nil, err
	}
	d.dir, d.getDir, d.putDir = dir, filepath.Join(dir, "get"), filepath.Join(dir, "put")
	for _, p := range []string{dir, d.getDir, d.putDir} {
		if err := os.MkdirAll(p, 0o755); err != nil {
			d.remove()
			return nil, err
		}
		// The session account reads the sources and writes the puts.
		if err := os.Chmod(p, 0o755); err != nil {
			d.remove()
			return nil, err
		}
	}
	if b.cred != nil {
		if err := os.Chown(d.putDir, int(b.cred.Uid), int(b.cred.Gid)); err != nil {
			d.remove()
			return nil, err
		}
	}
	return d, nil
}

func (d *sftpData) remove() { os.RemoveAll(d.dir) }

// where describes the directory for the tables.
func (d *sftpData) where() string {
	if d.tmpfs {
		return "on tmpfs (" + d.dir + "), at both ends"
	}
	return "on the disk (" + d.dir + ", /dev/shm had no room), at both ends: each source is read once before each transfer so it comes from the page cache"
}

// memAvailable is /proc/meminfo's MemAvailable in bytes (0 unknown).
func memAvailable() int64 { return procKB("/proc/meminfo", "MemAvailable:") }

// procKB reads a "Key:   123 kB" line of a /proc file, in bytes (0 when
// the file or the line is missing: a process that has exited).
func procKB(path, key string) int64 {
	b, _ := os.ReadFile(path)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, key); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// sftpRand is the fixed-seed stream every source is made of.
func sftpRand(seed uint64) *rand.ChaCha8 {
	var s [32]byte
	copy(s[:], "paramigo-sftp")
	s[31] = byte(seed)
	s[30] = byte(seed >> 8)
	return rand.NewChaCha8(s)
}

// newFile writes a file of size pseudo-random bytes (sparse: holes only,
// for the memory rows, where content does not matter and tmpfs should
// not hold two copies).
func (d *sftpData) newFile(name string, size int64, sparse bool) (*sftpSource, error) {
	src := &sftpSource{path: filepath.Join(d.dir, name), size: size, files: 1, sparse: sparse}
	f, err := os.OpenFile(src.path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	if sparse {
		err = f.Truncate(size)
	} else {
		h := sha256.New()
		_, err = io.Copy(io.MultiWriter(f, h), io.LimitReader(sftpRand(uint64(size)), size))
		h.Sum(src.sum[:0])
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(src.path)
		return nil, err
	}
	return src, nil
}

// newTree writes n files of 1 to 8 KiB from a fixed seed, a hundred to a
// directory.
func (d *sftpData) newTree(name string, n int) (*sftpSource, error) {
	root := filepath.Join(d.dir, name)
	r := rand.New(rand.NewPCG(uint64(n), 12))
	body := sftpRand(uint64(n))
	buf := make([]byte, 8<<10)
	for i := range n {
		dir := filepath.Join(root, fmt.Sprintf("d%03d", i/100))
		if i%100 == 0 {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, err
			}
		}
		p := buf[:1<<10+r.IntN(7<<10+1)]
		body.Read(p)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%05d", i)), p, 0o644); err != nil {
			return nil, err
		}
	}
	src := &sftpSource{path: root}
	var err error
	src.files, src.size, src.sum, err = treeDigest(root)
	return src, err
}

// treeDigest counts a tree's regular files and bytes and hashes their
// paths below root and contents, in path order.
func treeDigest(root string) (files int, size int64, sum [32]byte, err error) {
	h := sha256.New()
	err = filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil || !e.Type().IsRegular() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files++
		size += int64(len(data))
		fmt.Fprintf(h, "%s\x00%d\x00", rel, len(data))
		h.Write(data)
		return nil
	})
	h.Sum(sum[:0])
	return files, size, sum, err
}

// fileDigest is a file's size and SHA-256.
func fileDigest(p string) (int64, [32]byte, error) {
	var sum [32]byte
	f, err := os.Open(p)
	if err != nil {
		return 0, sum, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	h.Sum(sum[:0])
	return n, sum, err
}

// warm reads a source once, so a disk-backed one comes from the page
// cache for every row alike (dropping the caches instead needs root and
// would stall the machine's other work).
func (s *sftpSource) warm() {
	if s.files == 1 {
		if f, err := os.Open(s.path); err == nil {
			io.Copy(io.Discard, f)
			f.Close()
		}
		return
	}
	treeDigest(s.path)
}

// sftpCmd is one client run: a program, its arguments, what it reads on
// stdin and what it adds to the environment.
type sftpCmd struct {
	path  string
	args  []string
	stdin string
	env   []string
}

// sftpClient makes the command for one copy: op "get" copies remote to
// local, "put" local to remote; tree copies a directory.
type sftpClient func(addr, op, remote, local string, tree bool) sftpCmd

// scpStyleArgs are the options sftp, scp and `paramigo cp` share: ssh's,
// with -P for the port.
func (b *bench) scpStyleArgs(addr string, a algos) []string {
	_, port, _ := net.SplitHostPort(addr)
	args := []string{"-F", "none", "-P", port, "-i", b.keyPath}
	for _, o := range b.sshOptions(a) {
		args = append(args, "-o", o)
	}
	return args
}

// sftpBatch is OpenSSH's sftp in batch mode (-b -, the commands on
// stdin), with its defaults (-B 32768, -R 64).
func (b *bench) sftpBatch(a algos) sftpClient {
	return func(addr, op, remote, local string, tree bool) sftpCmd {
		host, _, _ := net.SplitHostPort(addr)
		r := ""
		if tree {
			r = "-r "
		}
		line := fmt.Sprintf("%s %s%q %q\n", op, r, remote, local)
		if op == "put" {
			line = fmt.Sprintf("put %s%q %q\n", r, local, remote)
		}
		return sftpCmd{path: b.o.sftp, args: append(append([]string{"-b", "-"}, b.scpStyleArgs(addr, a)...), b.user+"@"+host), stdin: line}
	}
}

// scpLike is scp (-s: over SFTP, as scp 9 does by default) or `paramigo
// cp`, which takes scp's command line.
func (b *bench) scpLike(path string, prefix []string, a algos) sftpClient {
	return func(addr, op, remote, local string, tree bool) sftpCmd {
		host, _, _ := net.SplitHostPort(addr)
		args := append(slices.Clone(prefix), "-q")
		if tree {
			args = append(args, "-r")
		}
		args = append(args, b.scpStyleArgs(addr, a)...)
		rem := b.user + "@" + host + ":" + remote
		if op == "get" {
			args = append(args, rem, local)
		} else {
			args = append(args, local, rem)
		}
		return sftpCmd{path: path, args: args}
	}
}

// sftpLibrary runs a library (impl "paramigo" or "pkg/sftp") in a child
// process: this program in helper mode (see sftpHelperMain).
func (b *bench) sftpLibrary(impl string, a algos) sftpClient {
	return func(addr, op, remote, local string, tree bool) sftpCmd {
		self, _ := os.Executable()
		job, _ := json.Marshal(sftpJob{Impl: impl, Op: op, Addr: addr, User: b.user, Key: b.keyPath,
			HostKey: b.hostKeyPath + ".pub", Options: b.sshOptions(a), Ciphers: a.ciphers, Remote: remote, Local: local})
		return sftpCmd{path: self, env: []string{sftpJobEnv + "=" + string(job)}}
	}
}

// paramikoSFTP is paramiko's SFTPClient.get and put (prefetching reads,
// pipelined writes: its defaults) over a Transport with its own cipher
// choice.
const paramikoSFTP = `import base64, sys, paramiko
host, port, user, key, hostpub, op, remote, local = sys.argv[1:]
hk = paramiko.Ed25519Key(data=base64.b64decode(open(hostpub).read().split()[1]))
t = paramiko.Transport((host, int(port)))
t.connect(hostkey=hk, username=user, pkey=paramiko.Ed25519Key.from_private_key_file(key))
s = paramiko.SFTPClient.from_transport(t)
if op == "get":
    s.get(remote, local)
else:
    s.put(local, remote)
s.close()
t.close()
`

func (b *bench) paramiko() sftpClient {
	return func(addr, op, remote, local string, tree bool) sftpCmd {
		host, port, _ := net.SplitHostPort(addr)
		return sftpCmd{path: b.o.python, args: []string{"-c", paramikoSFTP, host, port, b.user, b.keyPath, b.hostKeyPath + ".pub", op, remote, local}}
	}
}

// sftpCopy runs one copy of src with client and checks what landed: its
// size (and file count) every time, its SHA-256 on the row's first
// full-size copy. It returns the wall time from fork to exit and the
// client's CPU (its waited-for children, such as the ssh that sftp and
// scp run, included), and adds the client's peak RSS to the row.
func (b *bench) sftpCopy(ctx context.Context, timeout time.Duration, d *sftpData, r *sftpRow, client sftpClient, addr string, src *sftpSource, full bool) (wall, cpu time.Duration, err error) {
	remote, local := src.path, filepath.Join(d.getDir, "out")
	dst := local
	if r.op == "put" {
		remote, local = filepath.Join(d.putDir, "out"), src.path
		dst = remote
	}
	if err := os.RemoveAll(dst); err != nil {
		return 0, 0, err
	}
	defer os.RemoveAll(dst)
	if !d.tmpfs {
		src.warm()
	}
	c := client(addr, r.op, remote, local, r.tree)
	env := append(slices.Clone(b.env), c.env...)
	var rss *rssSampler
	start := time.Now()
	st, err := runCmdState(ctx, timeout, env, strings.NewReader(c.stdin), nil, func(pid int) { rss = sampleRSS(pid) }, c.path, c.args...)
	wall = time.Since(start)
	var peak int64
	if rss != nil {
		peak = rss.stop()
	}
	if err != nil {
		return 0, 0, err
	}
	cpu = st.UserTime() + st.SystemTime()
	r.rss = append(r.rss, peak)
	check := full && !r.summed && !src.sparse
	var sum [32]byte
	var size int64
	files := 1
	if r.tree {
		files, size, sum, err = treeDigest(dst)
	} else if check {
		size, sum, err = fileDigest(dst)
	} else {
		var fi os.FileInfo
		if fi, err = os.Stat(dst); err == nil {
			size = fi.Size()
		}
	}
	switch {
	case err != nil:
		return 0, 0, fmt.Errorf("bench: checking the copy: %w", err)
	case size != src.size || files != src.files:
		return 0, 0, fmt.Errorf("bench: %s copied %d bytes in %d files of %d in %d", r.id, size, files, src.size, src.files)
	case check && sum != src.sum:
		return 0, 0, fmt.Errorf("bench: %s: the copy differs from the source (SHA-256)", r.id)
	}
	if check {
		r.summed = true
	}
	return wall, cpu, nil
}

// rssSampler follows a client's peak memory: the high-water RSS (VmHWM)
// of each of its processes, read every 10 ms until it exits. The rusage
// wait4 returns cannot serve: Go starts children with vfork, and exec
// records the parent's high-water mark (this bench's) as the child's
// ru_maxrss.
type rssSampler struct {
	quit, done chan struct{}
	peak       map[int]int64 // bytes, per process
}

// sampleRSS starts sampling pid and its descendants.
func sampleRSS(pid int) *rssSampler {
	s := &rssSampler{quit: make(chan struct{}), done: make(chan struct{}), peak: map[int]int64{}}
	go func() {
		defer close(s.done)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			for todo := []int{pid}; len(todo) > 0; todo = todo[1:] {
				if v := vmHWM(todo[0]); v > s.peak[todo[0]] {
					s.peak[todo[0]] = v
				}
				todo = append(todo, childrenOf(todo[0])...)
			}
			select {
			case <-s.quit:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// stop ends the sampling and returns the sum of the processes' peaks
// (sftp and the ssh it runs live side by side).
func (s *rssSampler) stop() int64 {
	close(s.quit)
	<-s.done
	var sum int64
	for _, v := range s.peak {
		sum += v
	}
	return sum
}

// vmHWM is a process's high-water RSS in bytes (0 once it is gone).
func vmHWM(pid int) int64 { return procKB("/proc/"+strconv.Itoa(pid)+"/status", "VmHWM:") }

// sftpPeer is a client the rows are made of.
type sftpPeer struct {
	id, name string
	client   sftpClient
}

// sftpPeers lists the clients, those whose program is missing left out
// with a note.
func (b *bench) sftpPeers(a algos) []sftpPeer {
	peers := []sftpPeer{
		{"sftp", "OpenSSH `sftp` (batch)", b.sftpBatch(a)},
		{"scp", "OpenSSH `scp -s`", b.scpLike(b.o.scp, []string{"-s"}, a)},
		{"pmcp", "`paramigo cp`", b.scpLike(b.o.paramigo, []string{"cp"}, a)},
		{"pm", "paramigo library (Get/Put, child process)", b.sftpLibrary("paramigo", a)},
		{"pkg", "github.com/pkg/sftp (concurrent reads and writes, child process)", b.sftpLibrary("pkg/sftp", a)},
		{"paramiko", "paramiko SFTPClient (python3)", b.paramiko()},
	}
	var out []sftpPeer
	for _, p := range peers {
		switch {
		case p.id == "pmcp" && !have(b.o.paramigo):
			progress("sftp: skipping `paramigo cp`: -paramigo not given")
		case p.id == "paramiko" && exec.Command(b.o.python, "-c", "import paramiko").Run() != nil:
			progress("sftp: skipping paramiko: %s cannot import it", b.o.python)
		case p.id == "sftp" && !have(b.o.sftp), p.id == "scp" && !have(b.o.scp):
			progress("sftp: skipping %s: not found", p.id)
		default:
			out = append(out, p)
		}
	}
	return out
}

// sftpRows makes the rows of one part: for each pair of a client in
// clients (peer ids) and a server, a get and a put row; each run copies
// the source that source picks for the size measure passes (the full one
// or a small one for the check).
func (b *bench) sftpRows(tag string, peers []sftpPeer, pairs [][2]string, servers map[string]sftpServer, d *sftpData, tree bool, source func(int64) (*sftpSource, bool)) []*sftpRow {
	var rows []*sftpRow
	for _, op := range []string{"get", "put"} {
		for _, pair := range pairs {
			i := slices.IndexFunc(peers, func(p sftpPeer) bool { return p.id == pair[0] })
			srv, ok := servers[pair[1]]
			if i < 0 || !ok {
				continue
			}
			p := peers[i]
			r := &sftpRow{op: op, tree: tree, tputRow: &tputRow{id: tag + "/" + op + "/" + p.id + "-" + pair[1],
				client: p.name, server: srv.name, down: op == "get", meter: srv.meter}}
			if !b.selected(r.id) {
				continue
			}
			r.run = func(ctx context.Context, size int64) (time.Duration, time.Duration, error) {
				src, full := source(size)
				if src == nil {
					return 0, 0, fmt.Errorf("bench: no %s source", sizeText(size))
				}
				timeout := tputTimeout(size)
				if tree {
					timeout = 10 * time.Minute
				}
				return b.sftpCopy(ctx, timeout, d, r, p.client, srv.addr, src, full)
			}
			rows = append(rows, r)
		}
	}
	return rows
}

// sftpServer is a server the rows copy to and from.
type sftpServer struct {
	name, addr string
	meter      serverMeter
}

// sftpSection measures SFTP copies; see bench/README.md.
func (b *bench) sftpSection(ctx context.Context) (err error) {
	o := b.o
	need := max(2*o.sftpSize, 2*o.sftpRTTSize, o.sftpRSSSize) + 256<<20
	d, err := b.newSFTPData(need)
	if err != nil {
		return err
	}
	defer d.remove()
	sshd, err := b.startSSHD("sftp", []string{"Subsystem sftp " + o.sftpServer})
	if err != nil {
		return err
	}
	defer sshd.stop()
	a := algos{ciphers: []string{sftpCipher}}
	peers := b.sftpPeers(a)
	servers := map[string]sftpServer{"sshd": {"sshd (sftp-server)", sshd.addr, sshd.meter()}}
	if have(o.paramigo) {
		serve, err := b.startServeRoot(d.dir)
		if err != nil {
			return err
		}
		defer serve.stop()
		servers["serve"] = sftpServer{"`paramigo serve`", serve.addr, serve.meter()}
	}
	res := &sftpResults{data: d}
	b.rep.sftpHeader(b, d)

	// Files on loopback.
	sources := map[int64]*sftpSource{}
	defer func() {
		for _, s := range sources {
			os.Remove(s.path)
		}
	}()
	// Sources exist before any row runs, so no clock sees them written.
	fileSource := func(full int64) (func(int64) (*sftpSource, bool), error) {
		for _, size := range []int64{1 << 20, full} {
			if sources[size] == nil {
				progress("sftp: writing a %s source", sizeText(size))
				s, err := d.newFile(fmt.Sprintf("src-%d", size), size, false)
				if err != nil {
					return nil, err
				}
				sources[size] = s
			}
		}
		return func(size int64) (*sftpSource, bool) { return sources[size], size == full }, nil
	}
	loopSource, err := fileSource(o.sftpSize)
	if err != nil {
		return err
	}
	load := loadAvg()
	res.loop = b.sftpRows("sftp", peers, [][2]string{{"sftp", "sshd"}, {"pmcp", "sshd"}, {"pm", "sshd"}, {"pkg", "sshd"},
		{"paramiko", "sshd"}, {"pmcp", "serve"}, {"sftp", "serve"}, {"pm", "serve"}}, servers, d, false, loopSource)
	b.measure(ctx, "sftp", tputRows(res.loop), o.sftpSize)
	b.rep.sftpFileTable(fmt.Sprintf("SFTP on loopback, %s", sizeText(o.sftpSize)), res.loop, o.sftpSize, load, o.reps)
	os.Remove(sources[o.sftpSize].path)
	delete(sources, o.sftpSize)
	if err := ctx.Err(); err != nil {
		return err
	}

	// Through the delay relay.
	p, err := newProxy(sshd.addr, o.rtt/2)
	if err != nil {
		return err
	}
	defer p.close()
	rttSource, err := fileSource(o.sftpRTTSize)
	if err != nil {
		return err
	}
	load = loadAvg()
	delayed := map[string]sftpServer{"sshd": {"sshd (sftp-server) through the relay", p.addr(), sshd.meter()}}
	tag := "sftp-rtt" + o.rtt.String()
	res.rtt = b.sftpRows(tag, peers, [][2]string{{"sftp", "sshd"}, {"pmcp", "sshd"}, {"pm", "sshd"}, {"pkg", "sshd"}},
		delayed, d, false, rttSource)
	b.measure(ctx, tag, tputRows(res.rtt), o.sftpRTTSize)
	b.rep.sftpFileTable(fmt.Sprintf("SFTP through a %v round trip, %s", o.rtt, sizeText(o.sftpRTTSize)), res.rtt, o.sftpRTTSize, load, o.reps)
	p.close()
	if err := ctx.Err(); err != nil {
		return err
	}

	// A tree of small files.
	progress("sftp: writing a tree of %d files", o.sftpFiles)
	tree, err := d.newTree("tree", o.sftpFiles)
	if err != nil {
		return err
	}
	small, err := d.newTree("tree-check", min(100, o.sftpFiles))
	if err != nil {
		return err
	}
	load = loadAvg()
	res.tree = b.sftpRows("sftp-tree", peers, [][2]string{{"sftp", "sshd"}, {"scp", "sshd"}, {"pmcp", "sshd"}, {"pm", "sshd"}},
		servers, d, true, func(size int64) (*sftpSource, bool) {
			if size == tree.size {
				return tree, true
			}
			return small, false
		})
	b.measure(ctx, "sftp-tree", tputRows(res.tree), tree.size)
	b.rep.sftpTreeTable(res.tree, tree, load, o.reps)
	os.RemoveAll(tree.path)
	os.RemoveAll(small.path)
	if err := ctx.Err(); err != nil {
		return err
	}

	// Peak memory copying a large file.
	big, err := d.newFile("sparse", o.sftpRSSSize, true)
	if err != nil {
		return err
	}
	defer os.Remove(big.path)
	load = loadAvg()
	res.rss = b.sftpRows("sftp-rss", peers, [][2]string{{"pmcp", "sshd"}, {"sftp", "sshd"}, {"pm", "sshd"}, {"pkg", "sshd"}},
		servers, d, false, func(int64) (*sftpSource, bool) { return big, true })
	for _, r := range res.rss {
		if ctx.Err() != nil {
			break
		}
		wall, cpu, err := r.run(ctx, o.sftpRSSSize)
		if err != nil {
			r.err = err
			progress("sftp-rss: %s: %v", r.id, err)
			continue
		}
		r.data, r.totals, r.cpu = append(r.data, wall), append(r.totals, wall), append(r.cpu, cpu)
		progress("sftp-rss: %s: %.0f MB/s, peak RSS %.1f MiB", r.id, float64(o.sftpRSSSize)/1e6/wall.Seconds(), float64(r.rss[len(r.rss)-1])/(1<<20))
	}
	b.rep.sftpRSSTable(res.rss, o.sftpRSSSize, load)
	b.rep.sftpGoals(res, o)
	return ctx.Err()
}

// tputRows are the rows' tputRows, for measure.
func tputRows(rows []*sftpRow) []*tputRow {
	out := make([]*tputRow, len(rows))
	for i, r := range rows {
		out[i] = r.tputRow
	}
	return out
}

// sftpResults holds the section's rows for the goal table.
type sftpResults struct {
	data                 *sftpData
	loop, rtt, tree, rss []*sftpRow
}

// sftpJobEnv, set to a JSON sftpJob, makes this program copy one file or
// tree with a library and exit (see sftpHelperMain).
const sftpJobEnv = "PARAMIGO_BENCH_SFTP"

// sftpJob is one library copy in a child process.
type sftpJob struct {
	Impl          string // "paramigo" or "pkg/sftp"
	Op            string // "get" or "put"
	Addr, User    string
	Key, HostKey  string   // the user's private key, the host's public key file
	Options       []string // ssh_config lines, for paramigo's Connect
	Ciphers       []string // for x/crypto/ssh
	Remote, Local string
}

// sftpHelperMain runs a job and exits if this process was started as a
// helper (main and the tests' TestMain call it first). A library copy
// runs in a process of its own so that its CPU time and peak RSS are
// measured as a binary's are.
func sftpHelperMain() {
	v := os.Getenv(sftpJobEnv)
	if v == "" {
		return
	}
	var j sftpJob
	err := json.Unmarshal([]byte(v), &j)
	if err == nil {
		err = j.run(context.Background())
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench sftp helper:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func (j *sftpJob) run(ctx context.Context) error {
	switch j.Impl {
	case "paramigo":
		return j.paramigo(ctx)
	case "pkg/sftp":
		return j.pkgSFTP()
	}
	return fmt.Errorf("unknown library %q", j.Impl)
}

// paramigo copies as a library user would: Connect with the options the
// binaries get, Client.SFTP, then Get or Put with their defaults.
func (j *sftpJob) paramigo(ctx context.Context) error {
	host, portText, _ := net.SplitHostPort(j.Addr)
	port, _ := strconv.Atoi(portText)
	c, err := paramigo.Connect(ctx, j.User+"@"+host, paramigo.WithConfigFile("none"), paramigo.WithPort(port),
		paramigo.WithOptions(append([]string{"IdentityFile=" + j.Key}, j.Options...)...))
	if err != nil {
		return err
	}
	defer c.Close()
	s, err := c.SFTP(ctx)
	if err != nil {
		return err
	}
	if j.Op == "get" {
		err = s.Get(ctx, j.Remote, j.Local, nil)
	} else {
		err = s.Put(ctx, j.Local, j.Remote, nil)
	}
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	return err
}

// pkgSFTP copies with github.com/pkg/sftp as its documentation advises
// for speed: concurrent reads and writes through File.WriteTo and
// File.ReadFrom (64 requests in flight), with the larger packets
// OpenSSH's sftp-server takes.
func (j *sftpJob) pkgSFTP() error {
	pem, err := os.ReadFile(j.Key)
	if err != nil {
		return err
	}
	signer, err := ssh.ParsePrivateKey(pem)
	if err != nil {
		return err
	}
	pub, err := os.ReadFile(j.HostKey)
	if err != nil {
		return err
	}
	hostKey, _, _, _, err := ssh.ParseAuthorizedKey(pub)
	if err != nil {
		return err
	}
	cfg := &ssh.ClientConfig{User: j.User, Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)}, HostKeyCallback: ssh.FixedHostKey(hostKey)}
	cfg.Ciphers = j.Ciphers
	conn, err := ssh.Dial("tcp", j.Addr, cfg)
	if err != nil {
		return err
	}
	defer conn.Close()
	c, err := pkgsftp.NewClient(conn, pkgsftp.UseConcurrentReads(true), pkgsftp.UseConcurrentWrites(true),
		pkgsftp.MaxConcurrentRequestsPerFile(64), pkgsftp.MaxPacketUnchecked(pkgSFTPPacket))
	if err != nil {
		return err
	}
	defer c.Close()
	if j.Op == "get" {
		rf, err := c.Open(j.Remote)
		if err != nil {
			return err
		}
		defer rf.Close()
		lf, err := os.Create(j.Local)
		if err != nil {
			return err
		}
		if _, err := rf.WriteTo(lf); err != nil {
			lf.Close()
			return err
		}
		return lf.Close()
	}
	lf, err := os.Open(j.Local)
	if err != nil {
		return err
	}
	defer lf.Close()
	rf, err := c.OpenFile(j.Remote, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		return err
	}
	if _, err := rf.ReadFrom(lf); err != nil {
		rf.Close()
		return err
	}
	return rf.Close()
}

// paramikoVersion is what /usr/bin/python3's paramiko says it is.
func paramikoVersion(python string) string {
	out, err := exec.Command(python, "-c", "import paramiko; print(paramiko.__version__)").Output()
	if err != nil {
		return "not importable"
	}
	return strings.TrimSpace(string(out))
}

// sftpHeader says what every SFTP table shares.
func (r *report) sftpHeader(b *bench, d *sftpData) {
	r.emit("## SFTP\n\n")
	r.emit("Files %s. One sshd (its stock `Subsystem sftp %s`) and one `paramigo serve` (`--root` at that directory), as the session account. ", d.where(), b.o.sftpServer)
	r.emit("Every client runs as a child process, the libraries too (this program in a helper mode), timed from fork to exit, so connection and start-up count (a few ms; paramiko's interpreter about 0.3 s), and its CPU and peak RSS are its own: CPU from its rusage, the `ssh` that `sftp` and `scp` run included; peak RSS the sum of its processes' high-water marks (VmHWM, read every 10 ms: ru_maxrss would be the bench's own, which Go's vfork and exec hand down). ")
	r.emit("Every client but paramiko is told `Ciphers=%s`; paramiko %s has no AES-GCM and picks its own (aes128-ctr). ", sftpCipher, paramikoVersion(b.o.python))
	r.emit("github.com/pkg/sftp %s: UseConcurrentReads, UseConcurrentWrites, 64 requests in flight, %d-byte packets, File.WriteTo / File.ReadFrom. ", moduleVersion("github.com/pkg/sftp"), pkgSFTPPacket)
	r.emit("Each copy's size is checked, and a SHA-256 of the first full-size copy of each row; rows marked ← get, → put.\n\n")
}

// sftpFileTable prints single-file rows.
func (r *report) sftpFileTable(title string, rows []*sftpRow, size int64, load string, reps int) {
	r.emit("### %s\n\n", title)
	r.emit("Median of %d copies, rows interleaved round by round; load average %s → %s. Server CPU is everything sshd's listener forks for the connection (sftp-server included), or `paramigo serve`'s.\n\n", reps, load, loadAvg())
	r.emit("| id | client ↔ server | MB/s | s | client CPU s/GiB | server CPU s/GiB | client peak RSS MiB |\n|---|---|---:|---:|---:|---:|---:|\n")
	for _, row := range rows {
		if row.err != nil {
			r.emit("| %s | %s %s %s | %s | | | | |\n", row.id, row.client, row.arrow(), row.server, rowErr(row.err))
			continue
		}
		srv := "–"
		if v, ok := row.serverCPUPerGiB(size); ok {
			srv = fmt.Sprintf("%.2f", v)
		}
		r.emit("| %s | %s %s %s | %.0f | %.2f | %.2f | %s | %s |\n", row.id, row.client, row.arrow(), row.server,
			row.mbps(size), median(row.data).Seconds(), row.cpuPerGiB(size), srv, rssCell(row))
	}
	r.emit("\n")
}

// rssCell is a row's largest peak RSS in MiB.
func rssCell(row *sftpRow) string {
	if len(row.rss) == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f", float64(slices.Max(row.rss))/(1<<20))
}

// sftpTreeTable prints the tree rows.
func (r *report) sftpTreeTable(rows []*sftpRow, tree *sftpSource, load string, reps int) {
	r.emit("### SFTP, a tree of %d files of 1–8 KiB (%.1f MB, 100 to a directory)\n\n", tree.files, float64(tree.size)/1e6)
	r.emit("Median of %d copies of the whole tree into a directory that does not exist yet, rows interleaved; load average %s → %s. Every file's path, size and contents are checked.\n\n", reps, load, loadAvg())
	r.emit("| id | client ↔ server | s | files/s | client CPU s | server CPU s | client peak RSS MiB |\n|---|---|---:|---:|---:|---:|---:|\n")
	for _, row := range rows {
		if row.err != nil {
			r.emit("| %s | %s %s %s | %s | | | | |\n", row.id, row.client, row.arrow(), row.server, rowErr(row.err))
			continue
		}
		srv := "–"
		if len(row.srvCPU) > 0 {
			srv = fmt.Sprintf("%.2f", median(row.srvCPU).Seconds())
		}
		s := median(row.data).Seconds()
		r.emit("| %s | %s %s %s | %.2f | %.0f | %.2f | %s | %s |\n", row.id, row.client, row.arrow(), row.server,
			s, float64(tree.files)/s, median(row.cpu).Seconds(), srv, rssCell(row))
	}
	r.emit("\n")
}

// sftpRSSTable prints the peak memory of a large copy.
func (r *report) sftpRSSTable(rows []*sftpRow, size int64, load string) {
	r.emit("### SFTP client memory, a %s file (sparse: holes read as zeros; one copy each)\n\n", sizeText(size))
	r.emit("Peak RSS is the client's high-water RSS (VmHWM, read every 10 ms), its processes' added up: `sftp` and its `ssh`. Load average %s → %s.\n\n", load, loadAvg())
	r.emit("| id | client ↔ server | peak RSS MiB | MB/s |\n|---|---|---:|---:|\n")
	for _, row := range rows {
		if row.err != nil || len(row.data) == 0 {
			msg := "not run"
			if row.err != nil {
				msg = rowErr(row.err)
			}
			r.emit("| %s | %s %s %s | %s | |\n", row.id, row.client, row.arrow(), row.server, msg)
			continue
		}
		r.emit("| %s | %s %s %s | %s | %.0f |\n", row.id, row.client, row.arrow(), row.server, rssCell(row), row.mbps(size))
	}
	r.emit("\n")
}

// sftpGoals prints issue 12's ratios, each as the time of the reference
// row over ours (for files, the ratio of MB/s).
func (r *report) sftpGoals(res *sftpResults, o options) {
	r.emit("### SFTP against the goals\n\n")
	r.emit("Each ratio is of the rows' medians (throughput, or for the tree the inverse of the time); in brackets, the lowest and highest within one round.\n\n")
	r.emit("| | get | put | goal |\n|---|---:|---:|---|\n")
	find := func(rows []*sftpRow, id string) *tputRow {
		for _, row := range rows {
			if row.id == id && row.err == nil && len(row.data) > 0 {
				return row.tputRow
			}
		}
		return nil
	}
	line := func(label string, rows []*sftpRow, tag, ours, theirs string, goal map[string]float64, strict bool, goalText string) {
		cells := []string{}
		for _, op := range []string{"get", "put"} {
			a, b := find(rows, tag+"/"+op+"/"+ours), find(rows, tag+"/"+op+"/"+theirs)
			if a == nil || b == nil {
				cells = append(cells, "–")
				continue
			}
			q := median(b.data).Seconds() / median(a.data).Seconds()
			cell := fmt.Sprintf("%.2fx", q)
			if g, ok := goal[op]; ok {
				cell += " " + verdict(q >= g && (!strict || q > g))
			}
			if lo, hi, ok := roundSpread(a, b); ok {
				cell += fmt.Sprintf(" (%.2f–%.2f)", lo, hi)
			}
			cells = append(cells, cell)
		}
		r.emit("| %s | %s | %s |\n", label, strings.Join(cells, " | "), goalText)
	}
	both := func(g float64) map[string]float64 { return map[string]float64{"get": g, "put": g} }
	loop := sizeText(o.sftpSize) + " on loopback: "
	line(loop+"`paramigo cp` ÷ `sftp`, both → sshd", res.loop, "sftp", "pmcp-sshd", "sftp-sshd", both(1.5), false, "≥ 1.5x")
	line(loop+"library ÷ `sftp`, both → sshd", res.loop, "sftp", "pm-sshd", "sftp-sshd", both(1.5), false, "≥ 1.5x")
	line(loop+"`paramigo cp` → `paramigo serve` ÷ `sftp` → sshd", res.loop, "sftp", "pmcp-serve", "sftp-sshd", both(1.5), false, "≥ 1.5x")
	line(loop+"library → `paramigo serve` ÷ `sftp` → sshd", res.loop, "sftp", "pm-serve", "sftp-sshd", nil, false, "reference")
	line(loop+"`sftp` → `paramigo serve` ÷ `sftp` → sshd", res.loop, "sftp", "sftp-serve", "sftp-sshd", nil, false, "reference: our server")
	line(loop+"`paramigo cp` ÷ pkg/sftp, both → sshd", res.loop, "sftp", "pmcp-sshd", "pkg-sshd", both(1), true, "ahead (> 1x)")
	line(loop+"library ÷ pkg/sftp, both → sshd", res.loop, "sftp", "pm-sshd", "pkg-sshd", both(1), true, "ahead (> 1x)")
	line(loop+"`paramigo cp` ÷ paramiko, both → sshd", res.loop, "sftp", "pmcp-sshd", "paramiko-sshd", both(5), false, "≥ 5x")
	line(loop+"library ÷ paramiko, both → sshd", res.loop, "sftp", "pm-sshd", "paramiko-sshd", both(5), false, "≥ 5x")
	tag := "sftp-rtt" + o.rtt.String()
	rtt := fmt.Sprintf("%s through %v: ", sizeText(o.sftpRTTSize), o.rtt)
	line(rtt+"`paramigo cp` ÷ `sftp`", res.rtt, tag, "pmcp-sshd", "sftp-sshd", map[string]float64{"get": 3, "put": 2.5}, false, "get ≥ 3x, put ≥ 2.5x")
	line(rtt+"library ÷ `sftp`", res.rtt, tag, "pm-sshd", "sftp-sshd", map[string]float64{"get": 3, "put": 2.5}, false, "get ≥ 3x, put ≥ 2.5x")
	line(rtt+"`paramigo cp` ÷ pkg/sftp", res.rtt, tag, "pmcp-sshd", "pkg-sshd", map[string]float64{"get": 2}, false, "get ≥ 2x")
	line(rtt+"library ÷ pkg/sftp", res.rtt, tag, "pm-sshd", "pkg-sshd", map[string]float64{"get": 2}, false, "get ≥ 2x")
	line("tree: `paramigo cp -r` ÷ `sftp -r`", res.tree, "sftp-tree", "pmcp-sshd", "sftp-sshd", both(2), false, "≥ 2x")
	line("tree: `paramigo cp -r` ÷ `scp -r`", res.tree, "sftp-tree", "pmcp-sshd", "scp-sshd", both(2), false, "≥ 2x")
	line("tree: library ÷ `sftp -r`", res.tree, "sftp-tree", "pm-sshd", "sftp-sshd", both(2), false, "≥ 2x")
	line("tree: library ÷ `scp -r`", res.tree, "sftp-tree", "pm-sshd", "scp-sshd", both(2), false, "≥ 2x")
	rss := func(rows []*sftpRow, id string) string {
		for _, row := range rows {
			if row.id == id && row.err == nil && len(row.rss) > 0 {
				return rssCell(row)
			}
		}
		return "–"
	}
	for _, c := range []struct{ id, label string }{{"pmcp-sshd", "`paramigo cp`"}, {"pm-sshd", "library"}, {"pkg-sshd", "pkg/sftp"}, {"sftp-sshd", "`sftp`"}} {
		cells := []string{}
		for _, op := range []string{"get", "put"} {
			cells = append(cells, fmt.Sprintf("%s MiB (%s at %s)", rss(res.rss, "sftp-rss/"+op+"/"+c.id), rss(res.loop, "sftp/"+op+"/"+c.id), sizeText(o.sftpSize)))
		}
		r.emit("| %s peak RSS, %s | %s | reported: bounded when it does not grow with the size |\n", c.label, sizeText(o.sftpRSSSize), strings.Join(cells, " | "))
	}
	r.emit("\n")
}
