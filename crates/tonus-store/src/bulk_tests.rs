use super::copy::*;

#[test]
fn copy_rows_escape_what_would_end_a_field_or_a_row() {
    let mut out = String::new();
    copy_row(
        &mut out,
        &[
            Cell::Int(-7),
            Cell::Null,
            Cell::Text("a\tb\\c\nd\re"),
            Cell::Text("\\N"),
        ],
    );
    assert_eq!(out, "-7\t\\N\ta\\tb\\\\c\\nd\\re\t\\\\N\n");
}

#[test]
fn multi_row_inserts_have_one_placeholder_per_value() {
    let sql = insert_values("t", "a, b", 2, 3);
    assert_eq!(sql, "INSERT INTO t (a, b) VALUES (?, ?), (?, ?), (?, ?)");
}
