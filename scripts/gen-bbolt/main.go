// Command gen-bbolt writes the bbolt files under testdata/versions/ with etcd 3.5 and 3.6 shapes,
// and prints reference answers for any bbolt file (`snapshot status` under 3.5 and 3.6 rules, and
// bbolt's own tx.Check() problem list). It is built only when fixtures are regenerated, never in
// CI, and never downloads modules: GOPATH mode against Debian's sources (see build.sh).
//
// Built against golang-github-coreos-bbolt-dev 1.3.6 and golang-etcd-server-dev 3.4.23 (mvccpb),
// so the files are written by real bbolt code. The etcd 3.5/3.6 behaviours that cannot be run
// here follow these upstream files:
//   - bucket names and meta keys: server/storage/schema/bucket.go at v3.6.0 (key, meta, lease,
//     alarm, cluster, members, members_removed, auth, authUsers, authRoles; consistent_index,
//     term, confState, storageVersion)
//   - term / consistent_index as 8-byte big-endian: server/etcdserver/cindex/cindex.go
//     (UnsafeUpdateConsistentIndex, v3.5.0)
//   - confState as JSON of raftpb.ConfState: server/storage/schema/confstate.go (v3.5.0+)
//   - storageVersion "major.minor.0": server/storage/schema/version.go UnsafeSetStorageVersion
//     (v3.6.0)
//   - bolt options: server/storage/backend/backend.go at v3.6.0 (NoFreelistSync true, FreelistType
//     from --experimental-backend-bbolt-freelist-type; we also write the persisted variants
//     older etcd and other bbolt users produce)
//   - revision keys: server/storage/mvcc/revision.go (8-byte main, '_', 8-byte sub, 't' for a
//     tombstone)
//   - status numbers: etcdutl/snapshot/v3_snapshot.go Status at 2d377000ff61 (3.6: distinct live
//     user keys, version only when semver) and at v3.5.0 (every pair of every bucket)
package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"

	"github.com/coreos/go-semver/semver"
	"github.com/dustin/go-humanize"
	"github.com/olekukonko/tablewriter"
	bolt "go.etcd.io/bbolt"
	"go.etcd.io/etcd/mvcc/mvccpb"
)

type shape struct {
	name     string
	pageSize int
	freelist bolt.FreelistType
	persist  bool   // NoFreelistSync == false
	version  string // "3.5" or "3.6"
	keys     int    // live user keys written
	bigFree  bool   // leave > 0xFFFF free pages
	sv       string // meta/storageVersion for 3.6 ("" = what etcd writes, "3.6.0")
}

var shapes = []shape{
	{name: "v35-array-persist-4k", pageSize: 4096, freelist: bolt.FreelistArrayType, persist: true, version: "3.5", keys: 120},
	{name: "v35-map-nofreelist-4k", pageSize: 4096, freelist: bolt.FreelistMapType, persist: false, version: "3.5", keys: 120},
	{name: "v35-array-nofreelist-16k", pageSize: 16384, freelist: bolt.FreelistArrayType, persist: false, version: "3.5", keys: 150},
	{name: "v36-map-nofreelist-16k", pageSize: 16384, freelist: bolt.FreelistMapType, persist: false, version: "3.6", keys: 300},
	{name: "v36-array-persist-64k", pageSize: 65536, freelist: bolt.FreelistArrayType, persist: true, version: "3.6", keys: 200},
	{name: "v36-map-persist-1k", pageSize: 1024, freelist: bolt.FreelistMapType, persist: true, version: "3.6", keys: 80},
	{name: "v36-notsemver-4k", pageSize: 4096, freelist: bolt.FreelistMapType, persist: false, version: "3.6", keys: 60, sv: "v3.6"},
	{name: "v36-bigfree-1k", pageSize: 1024, freelist: bolt.FreelistArrayType, persist: true, version: "3.6", keys: 20, bigFree: true},
}

func revKey(main, sub int64, tombstone bool) []byte {
	b := make([]byte, 17, 18)
	binary.BigEndian.PutUint64(b[0:8], uint64(main))
	b[8] = '_'
	binary.BigEndian.PutUint64(b[9:17], uint64(sub))
	if tombstone {
		b = append(b, 't')
	}
	return b
}

func be64(n uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, n)
	return b
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen-bbolt:", err)
		os.Exit(1)
	}
}

// write makes one file: the etcd buckets, meta keys of its version, and a key bucket with
// history (updates and deletes) so that 3.5's pair count and 3.6's live-key count differ.
func write(path string, s shape) {
	_ = os.Remove(path)
	db, err := bolt.Open(path, 0o600, &bolt.Options{PageSize: s.pageSize, FreelistType: s.freelist, NoFreelistSync: !s.persist})
	must(err)
	names := []string{"key", "meta", "lease", "alarm", "cluster", "members", "members_removed", "auth", "authUsers", "authRoles"}
	rev := int64(1)
	must(db.Update(func(tx *bolt.Tx) error {
		for _, n := range names {
			if _, err := tx.CreateBucket([]byte(n)); err != nil {
				return err
			}
		}
		c := tx.Bucket([]byte("cluster"))
		if err := c.Put([]byte("clusterVersion"), []byte(s.version+".0")); err != nil {
			return err
		}
		m := tx.Bucket([]byte("members"))
		return m.Put([]byte("8e9e05c52164694d"), []byte(`{"id":10276657743932975437,"peerURLs":["http://localhost:2380"],"name":"default","clientURLs":["http://localhost:2379"]}`))
	}))
	put := func(tx *bolt.Tx, key string, value []byte, create, version int64) error {
		kv := mvccpb.KeyValue{Key: []byte(key), CreateRevision: create, ModRevision: rev, Version: version, Value: value}
		b, err := kv.Marshal()
		if err != nil {
			return err
		}
		return tx.Bucket([]byte("key")).Put(revKey(rev, 0, false), b)
	}
	del := func(tx *bolt.Tx, key string) error {
		kv := mvccpb.KeyValue{Key: []byte(key)}
		b, err := kv.Marshal()
		if err != nil {
			return err
		}
		return tx.Bucket([]byte("key")).Put(revKey(rev, 0, true), b)
	}
	value := func(i int) []byte {
		return []byte(strings.Repeat(fmt.Sprintf("value-%04d;", i), 8))
	}
	// Writes in batches, as etcd's backend commits every 100 ms.
	for batch := 0; batch*40 < s.keys; batch++ {
		must(db.Update(func(tx *bolt.Tx) error {
			for i := batch * 40; i < s.keys && i < (batch+1)*40; i++ {
				rev++
				if err := put(tx, fmt.Sprintf("/registry/configmaps/default/cm-%04d", i), value(i), rev, 1); err != nil {
					return err
				}
			}
			return nil
		}))
	}
	must(db.Update(func(tx *bolt.Tx) error {
		// Every fifth key updated, every seventh deleted, one deleted and recreated.
		for i := 0; i < s.keys; i += 5 {
			rev++
			if err := put(tx, fmt.Sprintf("/registry/configmaps/default/cm-%04d", i), value(i+1), int64(i+2), 2); err != nil {
				return err
			}
		}
		for i := 3; i < s.keys; i += 7 {
			rev++
			if err := del(tx, fmt.Sprintf("/registry/configmaps/default/cm-%04d", i)); err != nil {
				return err
			}
		}
		rev++
		if err := put(tx, "/registry/configmaps/default/cm-0003", []byte("again"), rev, 1); err != nil {
			return err
		}
		meta := tx.Bucket([]byte("meta"))
		if err := meta.Put([]byte("consistent_index"), be64(uint64(rev+10))); err != nil {
			return err
		}
		if err := meta.Put([]byte("term"), be64(2)); err != nil {
			return err
		}
		if err := meta.Put([]byte("confState"), []byte(`{"voters":[10276657743932975437],"auto_leave":false}`)); err != nil {
			return err
		}
		if s.version == "3.6" {
			sv := s.sv
			if sv == "" {
				sv = "3.6.0"
			}
			if err := meta.Put([]byte("storageVersion"), []byte(sv)); err != nil {
				return err
			}
		}
		return nil
	}))
	if s.bigFree {
		// One value spanning > 0xFFFF pages, then deleted: its pages become free, so the persisted
		// freelist needs the 0xFFFF count marker and a leading u64 count (bbolt freelist.go
		// write/read). Zeros keep the committed (gzipped) file small.
		big := make([]byte, (0xFFFF+100)*s.pageSize)
		must(db.Update(func(tx *bolt.Tx) error {
			b, err := tx.CreateBucket([]byte("test"))
			if err != nil {
				return err
			}
			return b.Put([]byte("big"), big)
		}))
		must(db.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket([]byte("test")) }))
		// A second commit moves the pending pages to the free list.
		must(db.Update(func(tx *bolt.Tx) error {
			return tx.Bucket([]byte("meta")).Put([]byte("term"), be64(3))
		}))
	}
	must(db.Close())
}

// Reference answers, computed with bbolt's own API.

type status struct {
	Hash      uint32 `json:"hash"`
	Revision  int64  `json:"revision"`
	TotalKey  int    `json:"totalKey"`
	TotalSize int64  `json:"totalSize"`
	Version   string `json:"version,omitempty"`
}

type reference struct {
	Bbolt    string   `json:"bbolt"`
	Status35 *status  `json:"status_3_5"`
	Status36 *status  `json:"status_3_6"`
	Check    []string `json:"check"`
}

// statusOf follows etcdutl/snapshot/v3_snapshot.go Status (v3.5.0 when v36 is false, 2d377000ff61
// when true), after the integrity check that both run first.
func statusOf(tx *bolt.Tx, v36 bool) (*status, error) {
	ds := &status{TotalSize: tx.Size()}
	h := crc32.New(crc32.MakeTable(crc32.Castagnoli))
	seen := map[string]struct{}{}
	if v36 {
		if m := tx.Bucket([]byte("meta")); m != nil {
			if v, err := semver.NewVersion(string(m.Get([]byte("storageVersion")))); err == nil {
				ds.Version = v.String()
			}
		}
	}
	c := tx.Cursor()
	for next, _ := c.First(); next != nil; next, _ = c.Next() {
		b := tx.Bucket(next)
		if b == nil {
			return nil, fmt.Errorf("nil bucket %q", next)
		}
		h.Write(next)
		iskeyb := string(next) == "key"
		err := b.ForEach(func(k, v []byte) error {
			h.Write(k)
			h.Write(v)
			if iskeyb {
				if len(k) < 17 {
					return fmt.Errorf("bad revision key %x", k)
				}
				ds.Revision = int64(binary.BigEndian.Uint64(k[0:8]))
				if v36 {
					var kv mvccpb.KeyValue
					if err := kv.Unmarshal(v); err != nil {
						return err
					}
					if len(k) == 18 && k[17] == 't' {
						delete(seen, string(kv.Key))
					} else {
						seen[string(kv.Key)] = struct{}{}
					}
				}
			}
			if !v36 {
				ds.TotalKey++
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if v36 {
		ds.TotalKey = len(seen)
	} else {
		ds.Version = ""
	}
	ds.Hash = h.Sum32()
	return ds, nil
}

// ref opens the file as etcdutl does. Without a persisted freelist bbolt rebuilds it from the
// reachable pages (db.go freepages) and panics in a goroutine on the first problem that walk
// finds: the process dies, and regen.sh records the panic line.
func ref(path, bboltName string) reference {
	r := reference{Bbolt: bboltName, Check: []string{}}
	db, err := bolt.Open(path, 0o400, &bolt.Options{ReadOnly: true})
	must(err)
	defer db.Close()
	must(db.View(func(tx *bolt.Tx) error {
		for e := range tx.Check() {
			r.Check = append(r.Check, e.Error())
		}
		if len(r.Check) > 0 {
			return nil
		}
		var err error
		if r.Status35, err = statusOf(tx, false); err != nil {
			return err
		}
		r.Status36, err = statusOf(tx, true)
		return err
	}))
	return r
}

func writeJSON(path string, v interface{}) {
	b, err := json.MarshalIndent(v, "", "  ")
	must(err)
	must(os.WriteFile(path, append(b, '\n'), 0o644))
}

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: gen-bbolt gen OUTDIR | gen-bbolt ref BBOLT-NAME FILE...")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "gen":
		dir := os.Args[2]
		must(os.MkdirAll(dir, 0o755))
		for _, s := range shapes {
			write(filepath.Join(dir, s.name+".db"), s)
		}
	case "ref":
		for _, f := range os.Args[3:] {
			r := ref(f, os.Args[2])
			b, err := json.Marshal(r)
			must(err)
			fmt.Printf("%s\t%s\n", f, bytes.TrimSpace(b))
		}
	case "print":
		// gen-bbolt print FORMAT FILE: what etcdutl 3.6 prints for `snapshot status -w FORMAT`
		// (etcdutl/etcdutl/printer*.go at 2d377000ff61, with the same tablewriter v0.0.5 and
		// go-humanize libraries, Debian's copies).
		if len(os.Args) != 4 {
			fmt.Fprintln(os.Stderr, "usage: gen-bbolt print FORMAT FILE")
			os.Exit(2)
		}
		r := ref(os.Args[3], "")
		if r.Status36 == nil {
			fmt.Fprintln(os.Stderr, "Error: snapshot file integrity check failed.")
			os.Exit(1)
		}
		print36(*r.Status36, os.Args[2])
	case "damage":
		if len(os.Args) != 5 {
			fmt.Fprintln(os.Stderr, "usage: gen-bbolt damage KIND IN OUT")
			os.Exit(2)
		}
		b, err := os.ReadFile(os.Args[3])
		must(err)
		damage(b, os.Args[2])
		must(os.WriteFile(os.Args[4], b, 0o644))
	default:
		fmt.Fprintln(os.Stderr, "gen-bbolt: unknown command", os.Args[1])
		os.Exit(2)
	}
}

// Page layout, as bbolt 1.3.6 page.go / db.go lay it out (little-endian): page header id u64,
// flags u16, count u16, overflow u32; meta after the header: magic u32, version u32, pageSize
// u32, flags u32, root bucket {root u64, sequence u64}, freelist u64, pgid u64, txid u64,
// checksum u64; leaf element flags u32, pos u32, ksize u32, vsize u32; branch element pos u32,
// ksize u32, pgid u64; element positions are relative to the element.

const hdr = 16

type file struct {
	b    []byte
	page int
}

func (f file) u16(off int) int    { return int(binary.LittleEndian.Uint16(f.b[off:])) }
func (f file) u32(off int) int    { return int(binary.LittleEndian.Uint32(f.b[off:])) }
func (f file) u64(off int) uint64 { return binary.LittleEndian.Uint64(f.b[off:]) }
func (f file) at(id uint64) int   { return int(id) * f.page }

// meta returns the offset of the meta in use (higher txid).
func (f file) meta() int {
	m0, m1 := hdr, f.page+hdr
	if f.u64(m1+48) > f.u64(m0+48) {
		return m1
	}
	return m0
}

func (f file) count(id uint64) int { return f.u16(f.at(id) + 10) }

func (f file) branchKey(id uint64, i int) (off, n int, child uint64) {
	e := f.at(id) + hdr + i*16
	return e + f.u32(e), f.u32(e + 4), f.u64(e + 8)
}

func (f file) leafKey(id uint64, i int) (off, n int) {
	e := f.at(id) + hdr + i*16
	return e + f.u32(e+4), f.u32(e + 8)
}

// keyBucketRoot finds the `key` bucket's root page in the root bucket's leaf.
func (f file) keyBucketRoot() uint64 {
	root := f.u64(f.meta() + 16)
	for i := 0; i < f.count(root); i++ {
		e := f.at(root) + hdr + i*16
		k := f.b[e+f.u32(e+4) : e+f.u32(e+4)+f.u32(e+8)]
		if string(k) == "key" {
			v := e + f.u32(e+4) + f.u32(e+8)
			return f.u64(v)
		}
	}
	must(fmt.Errorf("no key bucket"))
	return 0
}

// firstLeaf descends to the first (or last) leaf under page id.
func (f file) leafUnder(id uint64, last bool) uint64 {
	for f.u16(f.at(id)+8)&0x01 != 0 {
		i := 0
		if last {
			i = f.count(id) - 1
		}
		_, _, id = f.branchKey(id, i)
	}
	return id
}

func damage(b []byte, kind string) {
	f := file{b: b}
	f.page = f.u32(hdr + 8)
	switch kind {
	case "branch-above-child", "branch-below-prev":
		// Same-length key edits in the key bucket's root branch page, element 1 (as an
		// interrupted or buggy writer could leave; the class of corruption tx_check.go's
		// key-range rule was added for in v1.3.7).
		root := f.keyBucketRoot()
		if f.u16(f.at(root)+8)&0x01 == 0 || f.count(root) < 3 {
			must(fmt.Errorf("key bucket root %d is not a branch with 3+ elements", root))
		}
		off, n, child := f.branchKey(root, 1)
		var src []byte
		if kind == "branch-above-child" {
			// The second key of the child's first leaf: above the child's first key, below
			// element 2's key.
			l := f.leafUnder(child, false)
			ko, kn := f.leafKey(l, 1)
			src = b[ko : ko+kn]
		} else {
			// The last key of element 0's subtree: not above the previous subtree's largest
			// key, and that key is no longer below its next element's key.
			_, _, c0 := f.branchKey(root, 0)
			l := f.leafUnder(c0, true)
			ko, kn := f.leafKey(l, f.count(l)-1)
			src = b[ko : ko+kn]
		}
		if len(src) != n {
			must(fmt.Errorf("key lengths differ"))
		}
		copy(b[off:off+n], append([]byte(nil), src...))
	case "leaf-swap":
		// Keys 2 and 3 of the key bucket's first leaf swapped (same length): out of order
		// inside one page, bounds from the parent still respected.
		l := f.leafUnder(f.keyBucketRoot(), false)
		o2, n2 := f.leafKey(l, 2)
		o3, n3 := f.leafKey(l, 3)
		if n2 != n3 {
			must(fmt.Errorf("key lengths differ"))
		}
		k2 := append([]byte(nil), b[o2:o2+n2]...)
		copy(b[o2:o2+n2], b[o3:o3+n3])
		copy(b[o3:o3+n3], k2)
	case "freelist-dup", "freelist-badcount":
		fl := f.u64(f.meta() + 32)
		if fl == 0xFFFFFFFFFFFFFFFF {
			must(fmt.Errorf("freelist not persisted"))
		}
		p := f.at(fl)
		n := f.count(fl)
		if n == 0xFFFF || n < 2 {
			must(fmt.Errorf("freelist count %d", n))
		}
		if kind == "freelist-dup" {
			// The last free id replaced by the first: that id is freed twice and the
			// replaced page is neither reachable nor free (etcd's corrupted_backup.db shape).
			copy(b[p+hdr+(n-1)*8:], b[p+hdr:p+hdr+8])
		} else {
			// count 0xFFFF and a first u64 far beyond the page.
			binary.LittleEndian.PutUint16(b[p+10:], 0xFFFF)
			binary.LittleEndian.PutUint64(b[p+hdr:], 1_000_000_000_000)
		}
	default:
		must(fmt.Errorf("unknown damage %q", kind))
	}
}

// print36 follows etcdutl/etcdutl/printer.go makeDBStatusTable and the json, simple, table and
// fields printers at 2d377000ff61.
func print36(ds status, format string) {
	hdr := []string{"hash", "revision", "total keys", "total size", "version"}
	row := []string{
		fmt.Sprintf("%x", ds.Hash),
		fmt.Sprint(ds.Revision),
		fmt.Sprint(ds.TotalKey),
		humanize.Bytes(uint64(ds.TotalSize)),
		ds.Version,
	}
	switch format {
	case "json":
		// snapshot.Status has no omitempty on Version.
		b, err := json.Marshal(struct {
			Hash      uint32 `json:"hash"`
			Revision  int64  `json:"revision"`
			TotalKey  int    `json:"totalKey"`
			TotalSize int64  `json:"totalSize"`
			Version   string `json:"version"`
		}{ds.Hash, ds.Revision, ds.TotalKey, ds.TotalSize, ds.Version})
		must(err)
		fmt.Println(string(b))
	case "simple":
		fmt.Println(strings.Join(row, ", "))
	case "table":
		table := tablewriter.NewWriter(os.Stdout)
		table.SetHeader(hdr)
		table.Append(row)
		table.SetAlignment(tablewriter.ALIGN_RIGHT)
		table.Render()
	case "fields":
		fmt.Println(`"Hash" :`, ds.Hash)
		fmt.Println(`"Revision" :`, ds.Revision)
		fmt.Println(`"Keys" :`, ds.TotalKey)
		fmt.Println(`"Size" :`, ds.TotalSize)
		fmt.Println(`"Version" :`, ds.Version)
	default:
		must(fmt.Errorf("unsupported output format %q", format))
	}
}
