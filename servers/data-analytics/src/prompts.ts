import { z } from "@toolshed/server";
import { definePrompt } from "./deps.js";

export const dataAnalysisWorkflowPrompt = definePrompt({
  name: "data_analysis_workflow",
  title: "Data analysis workflow",
  description:
    "Walks through analysing a dataset with this server: find or load it, describe, analyze, query.",
  args: z.object({
    dataset_description: z
      .string()
      .describe(
        "What the data is and what you want to learn, e.g. 'monthly sales by region; which region grows fastest'.",
      ),
  }),
  handler: ({ dataset_description }) => ({
    description: "A step-by-step plan for analysing a dataset",
    messages: [
      {
        role: "user",
        content: {
          type: "text",
          text: [
            `I want to analyse this data: ${dataset_description}`,
            "",
            "Work through it step by step with the data-analytics tools:",
            "1. list_datasets to see what is loaded. If the data is not there, register_dataset for a file under the data dir, or load_inline_dataset for small JSON/CSV (validate_json first if unsure it parses).",
            "2. describe_dataset to learn the columns, types, nulls, distinct counts and ranges; note data quality problems.",
            "3. analyze the numeric columns, grouped by the most relevant category, to see distributions and differences.",
            "4. query with read-only SQL to answer the specific question; aggregate rather than pulling raw rows; when a result is truncated, read its next page with query { cursor } (the cursor the answer gives).",
            "5. Summarise the findings with the numbers that support them, and say what the data cannot tell.",
          ].join("\n"),
        },
      },
    ],
  }),
});
