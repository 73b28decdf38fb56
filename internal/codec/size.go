package codec

// SectionSize returns the bytes sec adds to a record's encoding
// (SectionsSize of a record is the count's size plus these).
func SectionSize(sec *Section) int {
	body := sectionBodySize(sec)
	return 1 + uvarintLen(sectionPage(sec)) + uvarintLen(uint64(body)) + body
}
