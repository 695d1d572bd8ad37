//! IP address classification.

/// Whether `ip` is private, loopback, link-local, CGNAT, reserved or documentation space;
/// `None` when `ip` is not an IP address.
pub fn is_private_ip(ip: &str) -> Option<bool> {
    unimplemented!("is_private_ip {ip}")
}

/// Whether `ip` lies in `cidr`; an error names whichever of the two is malformed.
pub fn ip_in_cidr(ip: &str, cidr: &str) -> Result<bool, String> {
    unimplemented!("ip_in_cidr {ip} {cidr}")
}
