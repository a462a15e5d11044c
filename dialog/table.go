package dialog

import "sync"

// Table finds dialogs by ID and by Call-ID. An ID stays valid for as long
// as its dialog lives, whatever IDs the dialog had since: a UAC dialog
// stays filed under the ID without a remote tag that its first event
// carried, besides its full ID.
type Table struct {
	mu     sync.Mutex
	byID   map[ID]*Dialog
	byCall map[string][]*Dialog
}

// NewTable returns an empty table.
func NewTable() *Table {
	return &Table{byID: make(map[ID]*Dialog), byCall: make(map[string][]*Dialog)}
}

// Add files d under its current ID and its Call-ID. A UAC dialog of a
// forked call has its own ID; the ID without a remote tag keeps finding
// the first dialog of the call.
func (t *Table) Add(d *Dialog) {
	id := d.ID()
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, taken := t.byID[id]; !taken {
		t.byID[id] = d
		d.filed = append(d.filed, id)
	}
	t.byCall[id.CallID] = append(t.byCall[id.CallID], d)
}

// Rekey files d under its current ID as well, after a response gave it
// a remote tag (Dialog.Update); its earlier IDs keep finding it.
func (t *Table) Rekey(d *Dialog) {
	id := d.ID()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.byID[id] != d {
		t.byID[id] = d
		d.filed = append(d.filed, id)
	}
}

// Alias files d under id as well: an ID the application was given for
// another dialog of the same call (the Calling ID, when a fork other than
// the first answers) then finds the one that lives on.
func (t *Table) Alias(id ID, d *Dialog) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.byID[id] = d
	d.filed = append(d.filed, id)
}

// Get returns the dialog filed under id.
func (t *Table) Get(id ID) (*Dialog, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	d, ok := t.byID[id]
	return d, ok
}

// ByCallID returns every dialog of a call, in the order they were added:
// several early dialogs when an INVITE forked.
func (t *Table) ByCallID(callID string) []*Dialog {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]*Dialog(nil), t.byCall[callID]...)
}

// Remove takes d out of the table, under every ID it was filed under.
func (t *Table) Remove(d *Dialog) {
	id := d.ID()
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range d.filed {
		if t.byID[k] == d {
			delete(t.byID, k)
		}
	}
	d.filed = nil
	list := t.byCall[id.CallID]
	for i, v := range list {
		if v == d {
			list = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(t.byCall, id.CallID)
	} else {
		t.byCall[id.CallID] = list
	}
}

// Len returns the number of dialogs in the table.
func (t *Table) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, l := range t.byCall {
		n += len(l)
	}
	return n
}
