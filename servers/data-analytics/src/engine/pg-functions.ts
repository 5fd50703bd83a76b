/**
 * The functions user SQL may call on PostgreSQL, by the name PostgreSQL's parser gives them
 * (unquoted names are folded to lower case; a quoted name is taken as written). Only built-ins that
 * compute a value from their arguments are here: nothing that reads files, runs SQL text, changes
 * settings, takes locks, signals backends, sleeps or touches large objects. Anything missing is
 * refused by name, so a new safe function is added here, never a pattern.
 */
const FUNCTIONS = {
  aggregate: `
    any_value array_agg avg bit_and bit_or bit_xor bool_and bool_or corr count covar_pop
    covar_samp every json_agg json_agg_strict json_object_agg json_object_agg_strict
    json_object_agg_unique json_object_agg_unique_strict jsonb_agg jsonb_agg_strict
    jsonb_object_agg jsonb_object_agg_strict jsonb_object_agg_unique
    jsonb_object_agg_unique_strict max min mode percentile_cont percentile_disc range_agg
    range_intersect_agg regr_avgx regr_avgy regr_count regr_intercept regr_r2 regr_slope
    regr_sxx regr_sxy regr_syy stddev stddev_pop stddev_samp string_agg sum var_pop var_samp
    variance xmlagg
  `,
  window: `
    cume_dist dense_rank first_value lag last_value lead nth_value ntile percent_rank rank
    row_number
  `,
  math: `
    abs acos acosd acosh asin asind asinh atan atan2 atan2d atand atanh cbrt ceil ceiling cos
    cosd cosh cot cotd degrees div erf erfc exp factorial floor gamma gcd lcm lgamma ln log
    log10 min_scale mod pi pow power radians random random_normal round scale sign sin sind sinh
    sqrt tan tand tanh trim_scale trunc width_bucket
  `,
  string: `
    ascii bit_count bit_length btrim casefold char_length character_length chr concat concat_ws
    convert convert_from convert_to crc32 crc32c decode encode format get_bit get_byte initcap
    is_normalized left length lower lpad ltrim md5 normalize octet_length overlay parse_ident
    position quote_ident quote_literal quote_nullable regexp_count regexp_instr regexp_like
    regexp_match regexp_matches regexp_replace regexp_split_to_array regexp_split_to_table
    regexp_substr repeat replace reverse right rpad rtrim set_bit set_byte sha224 sha256 sha384
    sha512 similar_to_escape split_part starts_with string_to_array string_to_table strpos
    substr substring to_ascii to_bin to_hex to_oct translate unistr upper
  `,
  datetime: `
    age clock_timestamp date_add date_bin date_part date_subtract date_trunc extract isfinite
    justify_days justify_hours justify_interval make_date make_interval make_time make_timestamp
    make_timestamptz now overlaps statement_timestamp timeofday timezone to_char to_date
    to_number to_timestamp transaction_timestamp
  `,
  json: `
    array_to_json json_array_elements json_array_elements_text json_array_length
    json_build_array json_build_object json_each json_each_text json_extract_path
    json_extract_path_text json_object json_object_keys json_populate_record
    json_populate_recordset json_scalar json_strip_nulls json_to_record json_to_recordset
    json_typeof jsonb_array_elements jsonb_array_elements_text jsonb_array_length
    jsonb_build_array jsonb_build_object jsonb_each jsonb_each_text jsonb_extract_path
    jsonb_extract_path_text jsonb_insert jsonb_object jsonb_object_keys jsonb_path_exists
    jsonb_path_exists_tz jsonb_path_match jsonb_path_match_tz jsonb_path_query
    jsonb_path_query_array jsonb_path_query_array_tz jsonb_path_query_first
    jsonb_path_query_first_tz jsonb_path_query_tz jsonb_populate_record jsonb_populate_recordset
    jsonb_pretty jsonb_set jsonb_set_lax jsonb_strip_nulls jsonb_to_record jsonb_to_recordset
    jsonb_typeof row_to_json to_json to_jsonb
  `,
  array: `
    array_append array_cat array_dims array_fill array_length array_lower array_ndims
    array_position array_positions array_prepend array_remove array_replace array_reverse
    array_sample array_shuffle array_sort array_to_string array_upper cardinality
    generate_series generate_subscripts trim_array unnest
  `,
  range: `
    daterange int4range int8range isempty lower_inc lower_inf numrange range_merge tsrange
    tstzrange upper_inc upper_inf
  `,
  textSearch: `
    numnode phraseto_tsquery plainto_tsquery querytree setweight strip to_tsquery to_tsvector
    ts_headline ts_rank ts_rank_cd websearch_to_tsquery
  `,
  network: `
    abbrev broadcast family host hostmask inet_merge inet_same_family masklen netmask network
    set_masklen
  `,
  xml: `
    xml_is_well_formed xml_is_well_formed_content xml_is_well_formed_document xmlexists xpath
    xpath_exists
  `,
  /** Conversions written as calls (`int4(x)`, `text(x)`) and pure helpers. */
  other: `
    bool bpchar date float4 float8 gen_random_uuid int2 int4 int8 interval num_nonnulls
    num_nulls numeric pg_collation_for pg_typeof text time timestamp timestamptz uuidv4 uuidv7
    varchar
  `,
};

export const ALLOWED_FUNCTIONS: ReadonlySet<string> = new Set(
  Object.values(FUNCTIONS).flatMap((names) => names.trim().split(/\s+/)),
);
