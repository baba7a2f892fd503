package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

// memHashes is a tlog.HashReader over stored hashes held in memory.
type memHashes []tlog.Hash

func (m memHashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		out[i] = m[x]
	}
	return out, nil
}

// TestChainAddStoresTlogHashes: chain.add stores exactly the hashes
// tlog.StoredHashesForRecordHash gives, across a flush of the hash store
// to its file, so the tree, its proofs and tree.hashes are as before.
func TestChainAddStoresTlogHashes(t *testing.T) {
	hs, err := tempHashStore()
	if err != nil {
		t.Fatal(err)
	}
	defer hs.close()
	c := &chain{hs: hs}
	var want memHashes
	const n = flushHashes/2 + 1000 // past the first flush to the file
	for i := range int64(n) {
		var rec [8]byte
		binary.LittleEndian.PutUint64(rec[:], uint64(i))
		h := tlog.RecordHash(rec[:])
		if err := c.add(h); err != nil {
			t.Fatal(err)
		}
		hashes, err := tlog.StoredHashesForRecordHash(i, h, want)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, hashes...)
		if c.next != i+1 || c.prev != h {
			t.Fatalf("after entry %d: next %d, prev %x", i, c.next, c.prev)
		}
	}
	if hs.onDisk == 0 || hs.count() != int64(len(want)) {
		t.Fatalf("store holds %d hashes (%d on disk), want %d", hs.count(), hs.onDisk, len(want))
	}
	for i, w := range want {
		got, err := hs.at(int64(i))
		if err != nil || got != w {
			t.Fatalf("stored hash %d = %x, %v; want %x", i, got, err, w)
		}
	}
}

// TestLeafHashWithPrefix: the leaf hash commitLocked takes of a zero byte
// followed by the entry is tlog.RecordHash of the entry.
func TestLeafHashWithPrefix(t *testing.T) {
	ev, err := encodeEvent(new(fetchEvent(5)))
	if err != nil {
		t.Fatal(err)
	}
	entry := appendEntry(nil, 5, tlog.Hash{9}, ev)
	if got, want := sha256.Sum256(append([]byte{0}, entry...)), tlog.RecordHash(entry); got != want {
		t.Fatalf("got %x, want %x", got, want)
	}
}
