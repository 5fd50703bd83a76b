import everything from "@toolshed/fixture-everything";
import { runContractTests } from "../src/contract.js";

// The shared contract every server keeps, run here against the kit's fixture so the helper itself
// is exercised (each domain server runs it with its own tool list).
runContractTests(everything, {
  tools: [
    "echo",
    "slow",
    "fail",
    "stuck",
    "test_simple_text",
    "test_image_content",
    "test_audio_content",
    "test_embedded_resource",
    "test_multiple_content_types",
    "test_error_handling",
    "json_schema_2020_12_tool",
    "test_tool_with_logging",
    "test_tool_with_progress",
    "test_sampling",
    "test_elicitation",
    "test_elicitation_sep1034_defaults",
    "test_elicitation_sep1330_enums",
    "test_missing_capability",
    "test_streaming_elicitation",
    "test_logging_tool",
    "test_input_required_result_elicitation",
    "test_input_required_result_sampling",
    "test_input_required_result_list_roots",
    "test_input_required_result_request_state",
    "test_input_required_result_multiple_inputs",
    "test_input_required_result_multi_round",
    "test_input_required_result_tampered_state",
    "test_input_required_result_capabilities",
    "test_sampling_with_tools",
    "test_trigger_tool_change",
    "test_trigger_prompt_change",
    "announce_change",
  ],
  resources: ["static-text", "static-binary", "watched-resource", "template-data"],
  prompts: [
    "test_simple_prompt",
    "test_prompt_with_arguments",
    "test_prompt_with_embedded_resource",
    "test_prompt_with_image",
    "test_input_required_result_prompt",
  ],
});
