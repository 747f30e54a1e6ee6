import CLibnftnl

// libnftnl's C enums import as structs, its anonymous enums as Int; these adapters give each call
// site the integer width the C function wants.
func attribute(_ value: nftnl_table_attr) -> UInt16 { UInt16(value.rawValue) }
func attribute(_ value: nftnl_chain_attr) -> UInt16 { UInt16(value.rawValue) }
func attribute(_ value: nftnl_rule_attr) -> UInt16 { UInt16(value.rawValue) }
func attribute(_ value: nftnl_set_attr) -> UInt16 { UInt16(value.rawValue) }
func attribute(_ value: Int) -> UInt16 { UInt16(value) }
func messageType(_ value: nf_tables_msg_types) -> UInt16 { UInt16(value.rawValue) }
func register(_ value: nft_registers) -> UInt32 { value.rawValue }
func flags(_ values: Int32...) -> UInt16 { UInt16(values.reduce(Int32(0), |)) }

let familyInet = UInt16(NFPROTO_INET)
